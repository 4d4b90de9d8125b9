import { registry } from "@web/core/registry";

/**
 * The accountant opens Dunning > Insight > Dashboard: the KPI cards, the charts, the top
 * customers with their last contact; then the effectiveness analysis behind it.
 */
registry.category("web_tour.tours").add("dunning_insight_dashboard_tour", {
    steps: () => [
        {
            content: "The overdue amount now",
            trigger: ".o_dunning_insight .o_dunning_kpi:contains('Overdue now'):contains('1,000.00')",
        },
        {
            content: "DSO and CEI cards",
            trigger: ".o_dunning_insight .o_dunning_kpi:contains('DSO')",
        },
        {
            content: "The charts are drawn",
            trigger: ".o_dunning_insight .o_dunning_chart canvas[height]",
        },
        {
            content: "The customer who owes most, with the last contact",
            trigger: ".o_dunning_insight tr:contains('Tour Insight Customer'):contains('E-mail')",
        },
        {
            content: "What the step recovered",
            trigger: ".o_dunning_insight td:contains('Tour Insight Step')",
        },
        {
            content: "Open the effectiveness analysis",
            trigger: ".o_control_panel button:contains('Effectiveness')",
            run: "click",
        },
        {
            content: "The pivot by step and channel",
            trigger: ".o_pivot th:contains('Tour Insight Step')",
        },
    ],
});
