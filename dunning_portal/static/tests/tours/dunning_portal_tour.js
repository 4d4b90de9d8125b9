import { registry } from "@web/core/registry";

/**
 * A customer opens the signed link of a reminder on a phone: checks the two overdue invoices,
 * disputes the first one with a reason, promises a date for the second one, asks for a payment
 * plan. Every step waits for the state it needs through its trigger (no fixed delay); a check
 * that fails logs an error, which fails the test.
 */
function fitsThePhone(state) {
    return {
        content: `The page is no wider than the phone: ${state}`,
        trigger: "body",
        run() {
            const root = document.documentElement;
            if (root.scrollWidth > root.clientWidth + 1) {
                console.error(
                    `The page is wider than the phone (${state}: ${root.scrollWidth} > ${root.clientWidth})`
                );
            }
        },
    };
}

function isoInDays(days) {
    const d = new Date();
    d.setDate(d.getDate() + days);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

registry.category("web_tour.tours").add("dunning_portal_tour", {
    steps: () => [
        {
            content: "The page shows the total overdue",
            trigger: ".o_dunning_summary .o_dunning_total:contains(1,500.00)",
        },
        {
            content: "Two open invoices, oldest first, 20 days late",
            trigger: ".o_dunning_invoice:count(2):first .o_dunning_badges:contains(20 days late)",
        },
        {
            content: "The communication history is there",
            trigger: ".o_dunning_history .o_dunning_history_item",
        },
        {
            content: "PDF and Pay stay under the signed link: no invoice access token on the page",
            trigger: ".o_dunning_invoice:first a.o_dunning_pdf[href$='/pdf']",
            run() {
                const prefix = window.location.pathname;
                const pdf = this.anchor.getAttribute("href");
                const pay = document.querySelector(".o_dunning_invoice a.o_dunning_pay").getAttribute("href");
                if (!pdf.startsWith(`${prefix}/invoice/`) || !pay.startsWith(`${prefix}/invoice/`)) {
                    console.error(`PDF or Pay outside the signed link: ${pdf} ${pay}`);
                }
                if (document.documentElement.innerHTML.includes("access_token")) {
                    console.error("The page hands out an invoice access token");
                }
            },
        },
        {
            content: "The statement lists every open item, with its totals",
            trigger: ".o_dunning_statement .o_dunning_statement_total",
        },
        {
            content: "The statement can be downloaded as a PDF, under the signed link",
            trigger: ".o_dunning_statement a.o_dunning_statement_pdf[href$='/statement.pdf']",
            run() {
                const prefix = window.location.pathname;
                const href = this.anchor.getAttribute("href");
                if (href !== `${prefix}/statement.pdf`) {
                    console.error(`Statement PDF outside the signed link: ${href}`);
                }
            },
        },
        fitsThePhone("the page"),
        {
            content: "Open the dispute form of the first invoice",
            trigger: ".o_dunning_invoice:first .o_dunning_dispute_box summary",
            run: "click",
        },
        {
            content: "Reason: quality problem",
            trigger: ".o_dunning_invoice:first select[name=category]",
            run: "select quality",
        },
        {
            content: "Say what is wrong",
            trigger: ".o_dunning_invoice:first textarea[name=message]",
            run: "edit Two pallets arrived broken.",
        },
        fitsThePhone("the dispute form open"),
        {
            content: "Send the dispute",
            trigger: ".o_dunning_invoice:first .o_dunning_dispute_form button[type=submit]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The dispute is confirmed and the invoice shows it",
            trigger: ".o_dunning_done:contains(we received your dispute)",
        },
        {
            content: "The first invoice is disputed",
            trigger: ".o_dunning_invoice:first .o_dunning_disputed",
        },
        fitsThePhone("the invoice disputed"),
        {
            content: "Open the promise form of the second invoice",
            trigger: ".o_dunning_invoice:last .o_dunning_promise_box summary",
            run: "click",
        },
        {
            content: "Choose a date in 10 days",
            trigger: ".o_dunning_invoice:last input[name=promise_date]",
            run() {
                this.anchor.value = isoInDays(10);
                this.anchor.dispatchEvent(new Event("input", { bubbles: true }));
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "Promise",
            trigger: ".o_dunning_invoice:last .o_dunning_promise_form button[type=submit]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The promise is confirmed",
            trigger: ".o_dunning_done:contains(your payment date is recorded)",
        },
        {
            content: "The second invoice shows the promised date",
            trigger: ".o_dunning_invoice:last .o_dunning_promised",
        },
        fitsThePhone("the date promised"),
        {
            content: "Open the payment plan form",
            trigger: ".o_dunning_instalments summary",
            run: "click",
        },
        {
            content: "Three instalments",
            trigger: ".o_dunning_instalment_form select[name=instalment_count]",
            run: "select 3",
        },
        {
            content: "First instalment in 15 days",
            trigger: ".o_dunning_instalment_form input[name=first_date]",
            run() {
                this.anchor.value = isoInDays(15);
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        fitsThePhone("the payment plan form open"),
        {
            content: "Ask for the plan",
            trigger: ".o_dunning_instalment_form button[type=submit]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The request is confirmed",
            trigger: ".o_dunning_done:contains(request for a payment plan)",
        },
        {
            content: "The invoice shows the plan waiting for an answer",
            trigger: ".o_dunning_invoice:last .o_dunning_badges:contains(Payment plan requested)",
        },
    ],
});

/** The same link once expired, at the same size: a button for a fresh link and no data. */
registry.category("web_tour.tours").add("dunning_portal_expired_link_tour", {
    steps: () => [
        {
            content: "An expired link offers a fresh link and shows no invoice",
            trigger: ".o_dunning_fresh_link",
            run() {
                if (document.body.innerText.includes("INV/")) {
                    console.error("An expired link shows data");
                }
            },
        },
        fitsThePhone("the expired link"),
    ],
});

/**
 * No online payment provider is enabled: the page says up front how to pay by bank transfer
 * (account, amount, reference), and the transfer details lead to the pay page with the whole
 * of it, never Odoo's "No payment method available".
 */
registry.category("web_tour.tours").add("dunning_portal_pay_transfer_tour", {
    steps: () => [
        {
            content: "No button to pay online, the bank transfer up front",
            trigger: ".o_dunning_summary .o_dunning_transfer_hint:contains(Pay by bank transfer)",
            run() {
                if (document.querySelector(".o_dunning_pay_all")) {
                    console.error("A button to pay online without any payment provider");
                }
            },
        },
        {
            content: "The account, the amount and the references of the overdue invoices",
            trigger:
                ".o_dunning_transfer_hint:contains(ES91 2100 0418 4502 0005 1332):contains(1,500.00) .o_dunning_transfer_reference:contains(INV/)",
        },
        fitsThePhone("the page with the transfer hint"),
        {
            content: "Open the transfer details",
            trigger: ".o_dunning_transfer_hint a.o_dunning_transfer_details",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The pay page gives the account, the exact amount and the reference",
            trigger:
                ".o_dunning_transfer .o_dunning_iban:contains(ES91 2100 0418 4502 0005 1332)",
        },
        {
            content: "The exact amount",
            trigger: ".o_dunning_transfer .o_dunning_transfer_amount:contains(1,500.00)",
        },
        {
            content: "The reference to quote",
            trigger: ".o_dunning_transfer .o_dunning_transfer_reference:contains(INV/)",
            run() {
                const prefix = document.querySelector("a.o_dunning_back").getAttribute("href");
                if (!window.location.pathname.startsWith(`${prefix}/`)) {
                    console.error(`The pay page is outside the signed link: ${window.location.pathname}`);
                }
                if (document.body.innerText.includes("No payment method available")) {
                    console.error("Odoo's 'No payment method available' is shown");
                }
                if (document.querySelector("#o_payment_form")) {
                    console.error("An online payment form without any payment provider");
                }
            },
        },
        fitsThePhone("the pay page"),
        {
            content: "Back to the account",
            trigger: "a.o_dunning_back",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The customer page again",
            trigger: ".o_dunning_summary .o_dunning_total:contains(1,500.00)",
        },
    ],
});
