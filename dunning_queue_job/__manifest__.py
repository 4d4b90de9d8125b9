{
    "name": "Dunning Chains: Queue Jobs",
    "version": "19.0.1.0.0",
    "summary": "The hourly dunning run as OCA queue_job jobs (one per batch and company on the "
               "dunning channel): sending capacity grows with queue_job workers on any node",
    "category": "Accounting/Accounting",
    "author": "Dunning Chains contributors",
    "website": "https://github.com/dunning-chains/dunning-chains",
    "license": "LGPL-3",
    "depends": ["dunning_chain", "queue_job"],
    "data": [
        "data/queue_job_data.xml",
    ],
    "installable": True,
    "auto_install": True,
    "application": False,
}
