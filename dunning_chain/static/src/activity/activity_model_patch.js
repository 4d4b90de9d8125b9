import { Activity } from "@mail/core/common/activity_model";
import { patch } from "@web/core/utils/patch";

/** A call of the dunning chain: marking it done asks what the call gave (Call Outcome). */
patch(Activity.prototype, {
    setup() {
        super.setup(...arguments);
        /** @type {boolean} set by the server (mail.activity.dunning_is_call) */
        this.dunning_is_call = false;
    },
    /**
     * Open the Call Outcome form of this call; resolves once it is closed (logged or
     * discarded), the chatter of its record reloaded.
     */
    async dunningLogCallOutcome() {
        const { action: actionService, orm } = this.store.env.services;
        const action = await orm.call("mail.activity", "action_dunning_call_outcome", [[this.id]]);
        await new Promise((resolve) => actionService.doAction(action, { onClose: resolve }));
        this.store.activityBroadcastChannel?.postMessage({
            type: "RELOAD_CHATTER",
            payload: { id: this.res_id, model: this.res_model },
        });
    },
});
