{
    "name": "Dunning Chains: Customer Portal",
    "version": "19.0.1.1.0",
    "summary": "Customers see what they owe and act on it: pay, dispute, promise a date, "
               "ask for instalments, from a signed link in every reminder",
    "category": "Accounting/Accounting",
    "author": "Dunning Chains contributors",
    "website": "https://github.com/dunning-chains/dunning-chains",
    "license": "LGPL-3",
    "depends": ["dunning_chain", "portal", "account_payment"],
    "data": [
        "security/ir.model.access.csv",
        "security/dunning_portal_security.xml",
        "security/dunning_engagement_security.xml",
        "views/dunning_portal_templates.xml",
        "wizard/dunning_instalment_plan_wizard_views.xml",
        "views/dunning_instalment_plan_views.xml",
        "views/dunning_policy_views.xml",
        "views/account_move_views.xml",
        "views/res_partner_views.xml",
        "views/dunning_engagement_views.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "dunning_portal/static/src/scss/dunning_portal.scss",
        ],
        "web.assets_tests": [
            "dunning_portal/static/tests/tours/*.js",
        ],
    },
    "installable": True,
    "auto_install": False,
}
