import { Component, onMounted, onWillStart, onWillUnmount, useRef, useState, useSubEnv } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { hexToRGBA } from "@web/core/colors/colors";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useSetupAction } from "@web/search/action_hook";
import { Layout } from "@web/search/layout";
import { getDefaultConfig } from "@web/views/view";

// one meaning, one colour: owed (red), receivables (grey), days (blue), collected (orange),
// asked (light grey), recovered (green)
const COLORS = {
    overdue: "#d9534f",
    receivables: "#6c757d",
    dso: "#4e79a7",
    cei: "#f28e2b",
    asked: "#adb5bd",
    recovered: "#59a14f",
};

/**
 * Dunning > Insight > Dashboard: what an accountant reads in a minute. Figures for the
 * current company (dunning.insight.dunning_dashboard_data): KPI cards, the overdue trend,
 * DSO and CEI per month, what each step recovered, the top 10 customers by overdue amount
 * with their last contact. Every block opens the analysis behind it.
 */
export class DunningInsightDashboard extends Component {
    static template = "dunning_chain.InsightDashboard";
    static components = { Layout };
    static props = ["*"];

    setup() {
        useSubEnv({ config: { ...getDefaultConfig(), ...this.env.config } });
        useSetupAction();
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null });
        this.charts = [];
        this.trendRef = useRef("trend");
        this.ratiosRef = useRef("ratios");
        this.levelsRef = useRef("levels");
        onWillStart(async () => {
            const [data] = await Promise.all([
                this.orm.call("dunning.insight", "dunning_dashboard_data", []),
                loadBundle("web.chartjs_lib"),
            ]);
            this.state.data = data;
        });
        onMounted(() => this.renderCharts());
        onWillUnmount(() => this.charts.forEach((chart) => chart.destroy()));
    }

    get data() {
        return this.state.data;
    }

    renderCharts() {
        const months = this.data.months;
        const labels = months.map((m) => m.label);
        const money = (value) => `${Math.round(value).toLocaleString()} ${this.data.currency_symbol}`;
        this.charts.push(
            new Chart(this.trendRef.el, {
                type: "line",
                data: {
                    labels,
                    datasets: [
                        {
                            label: _t("Overdue"),
                            data: months.map((m) => m.overdue),
                            borderColor: COLORS.overdue,
                            backgroundColor: hexToRGBA(COLORS.overdue, 0.15),
                            fill: "start",
                            tension: 0.2,
                        },
                        {
                            label: _t("Total receivables"),
                            data: months.map((m) => m.receivables),
                            borderColor: COLORS.receivables,
                            borderDash: [4, 4],
                            fill: false,
                        },
                    ],
                },
                options: {
                    maintainAspectRatio: false,
                    plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.raw)}` } } },
                    scales: { y: { beginAtZero: true, ticks: { callback: (v) => money(v) } } },
                },
            })
        );
        this.charts.push(
            new Chart(this.ratiosRef.el, {
                type: "bar",
                data: {
                    labels,
                    datasets: [
                        {
                            type: "bar",
                            label: _t("DSO (days)"),
                            data: months.map((m) => m.dso),
                            backgroundColor: hexToRGBA(COLORS.dso, 0.8),
                            yAxisID: "days",
                        },
                        {
                            type: "line",
                            label: _t("CEI (%)"),
                            data: months.map((m) => m.cei),
                            borderColor: COLORS.cei,
                            backgroundColor: COLORS.cei,
                            yAxisID: "percent",
                        },
                    ],
                },
                options: {
                    maintainAspectRatio: false,
                    scales: {
                        days: { position: "left", beginAtZero: true, title: { display: true, text: _t("days") } },
                        percent: {
                            position: "right",
                            beginAtZero: true,
                            suggestedMax: 100,
                            grid: { drawOnChartArea: false },
                            title: { display: true, text: "%" },
                        },
                    },
                },
            })
        );
        const levels = this.data.levels;
        this.charts.push(
            new Chart(this.levelsRef.el, {
                type: "bar",
                data: {
                    labels: levels.map((l) => l.level),
                    datasets: [
                        {
                            label: _t("Asked"),
                            data: levels.map((l) => l.asked),
                            backgroundColor: hexToRGBA(COLORS.asked, 0.6),
                        },
                        {
                            label: _t("Recovered within 30 days"),
                            data: levels.map((l) => l.recovered),
                            backgroundColor: COLORS.recovered,
                        },
                    ],
                },
                options: {
                    maintainAspectRatio: false,
                    plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.raw)}` } } },
                    scales: { y: { beginAtZero: true, ticks: { callback: (v) => money(v) } } },
                },
            })
        );
    }

    formatNumber(value, suffix) {
        return value === null || value === undefined ? "–" : `${value.toLocaleString()}${suffix}`;
    }

    openEffectiveness() {
        this.action.doAction("dunning_chain.action_dunning_fact");
    }

    openWeekday() {
        this.action.doAction("dunning_chain.action_dunning_fact_weekday");
    }

    openAging() {
        this.action.doAction("dunning_chain.action_dunning_aging");
    }

    openCustomer(row) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "res.partner",
            res_id: row.partner_id,
            views: [[false, "form"]],
        });
    }

    openCommunication(row) {
        if (row.last_id) {
            this.action.doAction({
                type: "ir.actions.act_window",
                res_model: "dunning.communication",
                res_id: row.last_id,
                views: [[false, "form"]],
            });
        }
    }
}

registry.category("actions").add("dunning_chain.insight_dashboard", DunningInsightDashboard);
