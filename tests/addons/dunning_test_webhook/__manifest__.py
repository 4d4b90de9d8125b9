{
    "name": "Dunning Chains: test channel (webhook)",
    "version": "19.0.1.0.0",
    "summary": "Test addon: proves a channel is one extension of dunning_chain (selection_add, "
               "traits, one sender method). Installed by ./setup/test.sh only.",
    "category": "Hidden/Tests",
    "author": "Dunning Chains contributors",
    "license": "LGPL-3",
    "depends": ["dunning_chain"],
    "data": ["security/ir.model.access.csv"],
    "installable": True,
}
