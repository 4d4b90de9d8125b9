import { registry } from "@web/core/registry";

/**
 * The collector marks the chain's call done in the customer's chatter: instead of the feedback
 * box, the Call Outcome form opens; they log a promise to pay (date, amount, what was said);
 * the task is done, the chatter says what the call gave.
 */
registry.category("web_tour.tours").add("dunning_call_outcome_tour", {
    steps: () => [
        {
            content: "Mark the call task done",
            trigger: ".o-mail-Activity:contains('about overdue invoices') .o-mail-Activity-markDone",
            run: "click",
        },
        {
            content: "The Call Outcome form opens (not the feedback box)",
            trigger: ".modal .modal-title:contains('Call Outcome')",
        },
        {
            trigger: ".modal .o_form_view div[name='partner_id']:contains('Tour Calls Customer')",
        },
        {
            content: "The customer promised to pay",
            trigger: ".modal div[name='outcome'] input[data-value='promise']",
            run: "click",
        },
        {
            content: "On a date ten days from now",
            trigger: ".modal div[name='promise_date'] input",
            run: `edit ${luxon.DateTime.now().plus({ days: 10 }).toFormat("MM/dd/yyyy")}`,
        },
        {
            content: "This amount",
            trigger: ".modal div[name='promise_amount'] input",
            run: "edit 600",
        },
        {
            content: "What was said",
            trigger: ".modal div[name='note'] textarea",
            run: "edit Pays once their own customer has paid them",
        },
        {
            content: "Log it",
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The form closes, the chatter says what the call gave",
            trigger: "body:not(:has(.modal)) .o-mail-Message:contains('Promised to pay')",
        },
        {
            content: "The task is done",
            trigger: ".o-mail-Chatter:not(:has(.o-mail-Activity))",
        },
    ],
});

/**
 * The collector's day lists today's call with the number to dial; Log Outcome, no answer:
 * another attempt is planned for a later day, the call leaves today's list.
 */
registry.category("web_tour.tours").add("dunning_collector_day_tour", {
    steps: () => [
        {
            content: "Today's call, with its number to dial",
            trigger: ".o_data_row:contains('Tour Calls Customer') a[href^='tel:']",
        },
        {
            trigger: ".o_data_row:contains('Tour Calls Customer') td[name='call_hours']:contains('09:00-18:00')",
        },
        {
            content: "Log what the call gave",
            trigger: ".o_data_row:contains('Tour Calls Customer') button[name='action_dunning_log_call']",
            run: "click",
        },
        {
            content: "Nobody answered",
            trigger: ".modal div[name='outcome'] input[data-value='no_answer']",
            run: "click",
        },
        {
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The call leaves today's list",
            trigger:
                "body:not(:has(.modal)) .o_view_nocontent, " +
                "body:not(:has(.modal)) .o_list_renderer:not(:has(.o_data_row:contains('Tour Calls Customer')))",
        },
    ],
});

/**
 * The activity popover of a list (the customers' Activities column): marking the call done
 * there opens the Call Outcome form too.
 */
registry.category("web_tour.tours").add("dunning_call_popover_tour", {
    steps: () => [
        {
            content: "The customer's activities",
            trigger: ".o_data_row:contains('Tour Calls Customer') .o-mail-ActivityButton",
            run: "click",
        },
        {
            content: "Mark the call done in the popover",
            trigger: ".o-mail-ActivityListPopoverItem:contains('about overdue invoices') .o-mail-ActivityListPopoverItem-markAsDone",
            run: "click",
        },
        {
            content: "The Call Outcome form opens",
            trigger: ".modal .modal-title:contains('Call Outcome')",
        },
        {
            trigger: ".modal div[name='outcome'] input[data-value='reached']",
            run: "click",
        },
        {
            trigger: ".modal div[name='note'] textarea",
            run: "edit Paying by transfer this week",
        },
        {
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            content: "Logged: no call left in the customer's activities",
            trigger: "body:not(:has(.modal)) .o_data_row:contains('Tour Calls Customer'):not(:has(.o-mail-ActivityButton .text-warning, .o-mail-ActivityButton .text-danger))",
        },
    ],
});
