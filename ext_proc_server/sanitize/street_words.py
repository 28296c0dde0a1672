"""The words that make a street in other countries' writing, for addresses in free text
(personal_text): Spain's street types, written before the name ("Calle Mayor 5",
"Plaza de Teodora Porta 19"), and the United States' suffixes, written after a number
and the name ("141 Hodges Mountains", "350 Fifth Ave Apt. 4").

The lists hold USPS's street suffixes and the Spanish cadastre's common street types,
which Faker's es_ES and en_US address providers draw from too.
"""

from __future__ import annotations

# Types no Spanish or Portuguese sentence writes before a name and a number: read in
# any casing, as "Rua" and "Avenida" are.
SPANISH_STREET_TYPES = (
    "calle", "callejón", "callejon", "urbanización", "urbanizacion", "glorieta", "rambla",
    "pasadizo", "travesía", "travesia", "carretera",
)  # fmt: skip

# Types that are common words too ("paseo", "camino", "acceso", "ronda", "cuesta": "la
# entrada cuesta 15"): only a proper name's start, as Faker's pt_BR place prefixes are
# (written capitalised, a capitalised name after it).
SPANISH_PLACE_TYPES = (
    "Plaza", "Vía", "Vial", "Cañada", "Acceso", "Ronda", "Pasaje", "Cuesta", "Paseo",
    "Camino",
)  # fmt: skip

# After a number and a capitalised name: "141 Hodges Mountains", "12 Oak St". USPS's
# primary suffixes (Publication 28, C1) but Arcade and Trailer, a shop's and a film's
# ("8 Bit Arcade", "2 Movie Trailer").
US_STREET_SUFFIXES = (
    "Alley", "Annex", "Avenue", "Bayou", "Beach", "Bend", "Bluff", "Bluffs", "Bottom",
    "Boulevard", "Branch", "Bridge", "Brook", "Brooks", "Burg", "Burgs", "Bypass",
    "Camp", "Canyon", "Cape", "Causeway", "Center", "Centers", "Circle", "Circles", "Cliff",
    "Cliffs", "Club", "Common", "Commons", "Corner", "Corners", "Course", "Court", "Courts",
    "Cove", "Coves", "Creek", "Crescent", "Crest", "Crossing", "Crossroad", "Crossroads",
    "Curve", "Dale", "Dam", "Divide", "Drive", "Drives", "Estate", "Estates", "Expressway",
    "Extension",
    "Extensions", "Fall", "Falls", "Ferry", "Field", "Fields", "Flat", "Flats", "Ford",
    "Fords", "Forest", "Forge", "Forges", "Fork", "Forks", "Fort", "Freeway", "Garden",
    "Gardens", "Gateway", "Glen", "Glens", "Green", "Greens", "Grove", "Groves", "Harbor",
    "Harbors", "Haven", "Heights", "Highway", "Hill", "Hills", "Hollow", "Inlet", "Island",
    "Islands", "Isle", "Junction", "Junctions", "Key", "Keys", "Knoll", "Knolls", "Lake",
    "Lakes", "Land", "Landing", "Lane", "Light", "Lights", "Loaf", "Lock", "Locks", "Lodge",
    "Loop", "Mall", "Manor", "Manors", "Meadow", "Meadows", "Mews", "Mill", "Mills",
    "Mission", "Motorway", "Mount", "Mountain", "Mountains", "Neck", "Orchard", "Oval",
    "Overpass", "Park", "Parks", "Parkway", "Parkways", "Pass", "Passage", "Path", "Pike",
    "Pine", "Pines", "Place", "Plain", "Plains", "Plaza", "Point", "Points", "Port", "Ports",
    "Prairie", "Radial", "Ramp", "Ranch", "Rapid", "Rapids", "Rest", "Ridge", "Ridges",
    "River", "Road", "Roads", "Route", "Row", "Rue", "Run", "Shoal", "Shoals", "Shore",
    "Shores", "Skyway", "Spring", "Springs", "Spur", "Spurs", "Square", "Squares",
    "Station", "Stravenue", "Stream", "Street", "Streets", "Summit", "Terrace",
    "Throughway", "Trace", "Track", "Trafficway", "Trail", "Tunnel", "Turnpike",
    "Underpass", "Union", "Unions", "Valley", "Valleys", "Via", "Viaduct", "View", "Views",
    "Village", "Villages", "Ville", "Vista", "Walk", "Walks", "Wall", "Way", "Ways", "Well",
    "Wells",
)  # fmt: skip
# USPS's abbreviations, written with or without their dot.
US_SUFFIX_ABBREVIATIONS = (
    "St", "Ave", "Av", "Rd", "Blvd", "Dr", "Ln", "Ct", "Pl", "Ter", "Hwy", "Pkwy", "Cir",
    "Sq", "Trl", "Pk", "Expy", "Fwy", "Tpke", "Aly",
)  # fmt: skip
# The suffixes most streets of a name of several words end with ("77 North Main
# Street", "9 Martin Luther King Blvd"): cued in prose after two or three words.
US_COMMON_SUFFIXES = (
    "Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Drive", "Dr",
    "Lane", "Ln", "Way", "Court", "Ct", "Place", "Pl", "Parkway", "Pkwy", "Highway", "Hwy",
    "Terrace", "Ter", "Circle", "Cir", "Trail", "Trl",
)  # fmt: skip
# Brazil's street types (Correios' DNE "tipos de logradouro") that Faker's pt_BR
# prefixes lack, read as those are (a proper name's start): not those that open other
# names as often ("Alto", "Baixa", "Bosque", "Bloco", "Buraco Negro", "Ilha", "Porto",
# "Monte", "Fonte", "Forte", "Galeria", "Reta Final", "Terminal", "Unidade", "Módulo",
# "Variante", "Artéria", "Acesso Premium, 12 meses").
BRAZIL_STREET_TYPES = (
    "Acampamento", "Adro", "Atalho", "Balneário", "Belvedere", "Boulevard", "Cais",
    "Calçada", "Caminho", "Chapadão", "Córrego", "Descida", "Elevada", "Escadaria",
    "Estância", "Ferrovia", "Granja", "Jardinete", "Passagem", "Prolongamento",
    "Rotatória", "Rótula", "Servidão", "Subida", "Trincheira", "Túnel", "Vala",
    "Zigue-Zague",
)  # fmt: skip
# Brasília's sectors, written as their initials before a number and a block, a group
# or a house ("SQN 308 Bloco C", "QI 5 Conjunto 2 Casa 10", "CLN 405 Bloco B"):
# superquadras, local commerce and housing sectors, the satellite towns' quadras.
BRASILIA_SECTOR = r"(?:SQ[NS]W?|SHI[NS]|S?CL[NS]W?|CR[NS]W?|EQ[NS]W?|Q[EILNR][A-Z]?)"
BRASILIA_UNIT = r"(?i:bloco|bl\.|conjunto|conj\.|cj\.?|casa|lote|lt\.)"

# Words that make a numbered run of several capitalised words a business's or a
# product's name rather than a street's ("The 5 Guys Burger Place", "4 Seasons Hotel
# Park", "2 Old Spice Body Wash"), folded.
NOT_IN_STREET_NAMES = frozenset(
    {"hotel", "hotels", "inn", "motel", "resort", "burger", "burgers", "pizza", "grill",
     "diner", "cafe", "bar", "pub", "bistro", "restaurant", "kitchen", "bakery", "shop",
     "shops", "store", "stores", "market", "mall", "foods", "food", "meal", "meals", "pack",
     "guys", "seasons", "brothers", "sisters", "wash", "body", "spice", "tea", "coffee",
     "beer", "wine", "energy", "drink", "drinks", "edition", "series", "season", "episode",
     "chapter", "volume", "tips", "ways", "things", "reasons", "steps", "inc", "llc",
     "ltd", "corp", "co"}
)  # fmt: skip
# Words that count time after a number ("12 Weeks Summer Camp", "30 Days Wild Way"): a
# product's name only there. Elsewhere they are surnames a street is named after
# ("lives on Weeks Road", "12 John Weeks Road").
COUNTED_TIME = frozenset({"days", "weeks", "months", "years", "hours", "minutes"})


def names_a_product(words: list[str], after_number: bool) -> bool:
    """Whether a street's name words (as written), after a number or not, hold a word of
    a business's or a product's name: a word that counts time only as the first after
    the number, before another."""
    folded = [word.lower() for word in words]
    if not NOT_IN_STREET_NAMES.isdisjoint(folded):
        return True
    return after_number and len(folded) > 1 and folded[0] in COUNTED_TIME
