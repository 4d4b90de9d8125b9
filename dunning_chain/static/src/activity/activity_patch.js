import { Activity } from "@mail/core/web/activity";
import { ActivityListPopoverItem } from "@mail/core/web/activity_list_popover_item";
import { patch } from "@web/core/utils/patch";

/** Mark Done on a dunning call (chatter): the Call Outcome form instead of the feedback box. */
patch(Activity.prototype, {
    async onClickMarkAsDone(ev) {
        if (!this.props.activity.dunning_is_call) {
            return super.onClickMarkAsDone(ev);
        }
        const thread = this.thread;
        await this.props.activity.dunningLogCallOutcome();
        this.props.onActivityChanged(thread);
        await thread.fetchNewMessages();
    },
});

/** The same in the activity popovers of the list, kanban and activity views. */
patch(ActivityListPopoverItem.prototype, {
    async onClickMarkAsDone() {
        if (!this.props.activity.dunning_is_call) {
            return super.onClickMarkAsDone();
        }
        await this.props.activity.dunningLogCallOutcome();
        this.props.onActivityChanged?.();
    },
});
