{
    "name": "Dunning Chains: SMS",
    "version": "19.0.1.1.0",
    "summary": "The SMS channel for dunning chains: E.164 mobiles, GSM-7 segments, quiet hours "
               "in the number's time zone, opt-outs and delivery reports",
    "category": "Accounting/Accounting",
    "author": "Dunning Chains contributors",
    "website": "https://github.com/dunning-chains/dunning-chains",
    "license": "LGPL-3",
    "depends": ["dunning_chain", "sms", "phone_validation"],
    "external_dependencies": {"python": ["phonenumbers"]},
    "data": [
        "data/sms_template_data.xml",
        "data/dunning_policy_data.xml",
        "views/dunning_policy_views.xml",
        "views/dunning_communication_views.xml",
        "views/res_partner_views.xml",
    ],
    "installable": True,
    "auto_install": False,
}
