"""Map Odoo's country states to the subdivisions of the ``holidays`` library (pure, no Odoo).

Odoo's Spanish states are the 52 provinces (``M`` Madrid, ``B`` Barcelona...); regional public
holidays in Spain are set by the 19 autonomous communities, which is what ``holidays`` expects
(``MD``, ``CT``...). Elsewhere (US states, German Länder...) Odoo's code, without a ``XX-``
country prefix, is already the library's subdivision.
"""

ES_PROVINCE_TO_COMMUNITY = {
    # Andalucía
    "AL": "AN", "CA": "AN", "CO": "AN", "GR": "AN", "H": "AN", "J": "AN", "MA": "AN", "SE": "AN",
    # Aragón
    "HU": "AR", "TE": "AR", "Z": "AR",
    "O": "AS",                      # Asturias
    "S": "CB",                      # Cantabria
    "CE": "CE",                     # Ceuta
    # Castilla y León
    "AV": "CL", "BU": "CL", "LE": "CL", "P": "CL", "SA": "CL", "SG": "CL", "SO": "CL",
    "VA": "CL", "ZA": "CL",
    # Castilla-La Mancha
    "AB": "CM", "CR": "CM", "CU": "CM", "GU": "CM", "TO": "CM",
    "GC": "CN", "TF": "CN",         # Canarias
    "B": "CT", "GI": "CT", "L": "CT", "T": "CT",   # Cataluña
    "BA": "EX", "CC": "EX",         # Extremadura
    "C": "GA", "LU": "GA", "OR": "GA", "PO": "GA",  # Galicia
    "PM": "IB",                     # Illes Balears
    "MU": "MC",                     # Murcia
    "M": "MD",                      # Madrid
    "ME": "ML",                     # Melilla
    "NA": "NC",                     # Navarra
    "VI": "PV", "SS": "PV", "BI": "PV",             # País Vasco
    "LO": "RI",                     # La Rioja
    "A": "VC", "CS": "VC", "V": "VC",               # Comunitat Valenciana
}


def holiday_subdivision(country_code, state_code):
    """The ``holidays`` subdivision for an Odoo state, or None when there is none."""
    if not country_code or not state_code:
        return None
    country = country_code.strip().upper()
    state = state_code.strip().upper()
    if state.startswith(country + "-"):
        state = state[len(country) + 1:]
    if country == "ES":
        return ES_PROVINCE_TO_COMMUNITY.get(state)
    return state or None
