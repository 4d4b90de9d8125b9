{
    "name": "Dunning Chains: Customer Portal",
    "version": "19.0.1.0.0",
    "summary": "Customers see what they owe and act on it: pay, dispute, promise a date, "
               "ask for instalments, from a signed link in every reminder",
    "category": "Accounting/Accounting",
    "author": "Dunning Chains contributors",
    "website": "https://github.com/dunning-chains/dunning-chains",
    "license": "LGPL-3",
    "depends": ["dunning_chain", "portal", "account_payment"],
    "data": [],
    "installable": True,
    "auto_install": False,
}
