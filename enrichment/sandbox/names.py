"""Word lists the sandbox world draws from: invented company words, tricky French names, NAF codes.

Company names are assembled from invented stems so that the world never names a real company;
person names come from Faker plus the hand-picked cases every French contact tool trips on
(accents, hyphens, particles, apostrophes).
"""

from __future__ import annotations

# Names that must always exist in the world, whatever the seed: the cases demos and tests cite.
SIGNATURE_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("Éloïse", "Lefèvre", "F"),
    ("Jean-Pierre", "de La Fontaine", "M"),
    ("Anaïs", "N'Diaye", "F"),
)

# (first name, gender) pairs with accents and hyphens, mixed with Faker's fr_FR names.
TRICKY_FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("Éloïse", "F"), ("Anaïs", "F"), ("Hélène", "F"), ("Zoé", "F"), ("Maëlle", "F"),
    ("Noémie", "F"), ("Marie-Hélène", "F"), ("Anne-Sophie", "F"), ("Bérénice", "F"),
    ("Inès", "F"), ("Léa", "F"), ("Chloé", "F"), ("Jean-Pierre", "M"), ("Jean-Baptiste", "M"),
    ("François", "M"), ("Jérôme", "M"), ("Loïc", "M"), ("Gaël", "M"), ("Benoît", "M"),
    ("Hervé", "M"), ("Clément", "M"), ("Théo", "M"), ("Pierre-Yves", "M"), ("Joël", "M"),
)

TRICKY_LAST_NAMES: tuple[str, ...] = (
    "Lefèvre", "de La Fontaine", "N'Diaye", "Le Goff", "d'Arcy", "Dupont-Aignan", "Müller",
    "de Saint-Exupéry", "Bénard", "Lemaître", "Ménard", "Béranger", "O'Neill", "Le Bihan",
    "du Plessis", "Gaultier-Rémy", "Thévenin", "Lacôte", "Nguyễn", "El Amrani", "Da Silva",
    "van der Berg", "Chénier", "Pécresse-Aubry",
)

# Invented stems: none of these is meant to be a real brand.
COMPANY_STEMS: tuple[str, ...] = (
    "Boréal", "Lumenis", "Korvel", "Alizé", "Vertigone", "Sablière", "Quantelle", "Novarive",
    "Orpheane", "Calisto", "Brumaire", "Ferroline", "Hexagone Bleu", "Myrtillo", "Zénith Ouest",
    "Azurine", "Pérignac", "Clairvoie", "Trémolo", "Ondine", "Granitis", "Velours", "Castelune",
    "Mistralis", "Orléane", "Pastelio", "Roseraie", "Solvane", "Tanalis", "Ubiquo", "Valmire",
    "Wendelin", "Ysaline", "Arcanelle", "Bastidou", "Cormoran", "Dunéo", "Éclipsia",
    "Fontenelle", "Galéo", "Hirondelle", "Iridium Sud", "Jasmina", "Kerlouan", "Lavandin",
    "Marelle", "Nacelle", "Opaline", "Pivoine", "Quiberon Tech", "Rivelle", "Saphirine",
)
COMPANY_FORMS_FR: tuple[str, ...] = (
    "Conseil", "Industries", "Logistique", "Solutions", "Ingénierie", "Digital", "Formation",
    "Bâtiment", "Distribution", "Studio", "Services", "Systèmes",
)
COMPANY_FORMS_INTL: tuple[str, ...] = (
    "Labs", "Analytics", "Robotics", "Partners", "Software", "Logistics", "Health", "Networks",
)

# (NAF rev.2 code, INSEE label, industry shown in the app, headcount range).
NAF_CODES: tuple[tuple[str, str, str, tuple[int, int]], ...] = (
    ("62.01Z", "Programmation informatique", "Logiciels et services informatiques", (5, 400)),
    ("62.02A", "Conseil en systèmes et logiciels informatiques", "Conseil informatique", (3, 250)),
    ("58.29C", "Édition de logiciels applicatifs", "Édition de logiciels", (8, 600)),
    ("70.22Z", "Conseil pour les affaires et autres conseils de gestion", "Conseil", (2, 120)),
    ("73.11Z", "Activités des agences de publicité", "Marketing et publicité", (4, 90)),
    ("69.20Z", "Activités comptables", "Expertise comptable", (3, 80)),
    ("71.12B", "Ingénierie, études techniques", "Ingénierie", (10, 900)),
    ("25.62B", "Mécanique industrielle", "Industrie mécanique", (12, 450)),
    ("46.69B", "Commerce de gros de fournitures et équipements industriels divers",
     "Négoce industriel", (6, 200)),
    ("49.41A", "Transports routiers de fret interurbains", "Transport et logistique", (15, 700)),
    ("41.20A", "Construction de maisons individuelles", "Construction", (8, 300)),
    ("85.59A", "Formation continue d'adultes", "Formation", (2, 60)),
    ("47.91B", "Vente à distance sur catalogue spécialisé", "E-commerce", (4, 150)),
    ("10.71C", "Boulangerie et boulangerie-pâtisserie", "Agroalimentaire", (3, 40)),
)

INTL_INDUSTRIES: tuple[tuple[str, tuple[int, int]], ...] = (
    ("Software", (10, 2000)), ("Logistics", (20, 1500)), ("Healthcare technology", (10, 800)),
    ("Robotics", (15, 600)), ("Financial services", (20, 3000)), ("Consulting", (5, 400)),
)

FR_CITIES: tuple[tuple[str, str], ...] = (
    ("75011", "Paris"), ("75008", "Paris"), ("69003", "Lyon"), ("13002", "Marseille"),
    ("31000", "Toulouse"), ("44000", "Nantes"), ("59000", "Lille"), ("33000", "Bordeaux"),
    ("35000", "Rennes"), ("67000", "Strasbourg"), ("34000", "Montpellier"), ("38000", "Grenoble"),
)
FR_STREETS: tuple[str, ...] = (
    "rue de la République", "avenue Jean-Jaurès", "boulevard Voltaire", "rue des Tanneurs",
    "quai de la Fosse", "place Bellecour", "rue Sainte-Catherine", "allée des Platanes",
)

# Other countries: ISO code and the Faker locale used for the people who work there.
INTL_COUNTRIES: tuple[tuple[str, str], ...] = (
    ("DE", "de_DE"), ("GB", "en_GB"), ("US", "en_US"), ("ES", "es_ES"), ("IT", "it_IT"),
    ("NL", "nl_NL"), ("BE", "fr_FR"),
)

# (masculine, feminine) forms: a title that disagrees with the name looks fake in a demo.
JOB_TITLES_FR: tuple[tuple[str, str], ...] = (
    ("Directeur commercial", "Directrice commerciale"),
    ("Responsable marketing", "Responsable marketing"),
    ("Directeur administratif et financier", "Directrice administrative et financière"),
    ("Directeur des ressources humaines", "Directrice des ressources humaines"),
    ("Chargé de recrutement", "Chargée de recrutement"),
    ("Responsable des achats", "Responsable des achats"),
    ("Ingénieur commercial", "Ingénieure commerciale"),
    ("Business Developer", "Business Developer"),
    ("Customer Success Manager", "Customer Success Manager"),
    ("Président-directeur général", "Présidente-directrice générale"),
    ("Directeur général", "Directrice générale"),
    ("Responsable grands comptes", "Responsable grands comptes"),
    ("Chef de projet digital", "Cheffe de projet digital"),
    ("Directeur technique", "Directrice technique"),
    ("Responsable logistique", "Responsable logistique"),
    ("Office Manager", "Office Manager"),
    ("Head of Sales", "Head of Sales"),
    ("Responsable partenariats", "Responsable partenariats"),
    ("Chargé d'affaires", "Chargée d'affaires"),
)
JOB_TITLES_INTL: tuple[str, ...] = (
    "Head of Sales", "VP Marketing", "Chief Financial Officer", "Account Executive",
    "Customer Success Manager", "Procurement Manager", "Chief Technology Officer",
    "Sales Operations Lead", "Managing Director", "Partnerships Manager",
)

# Local-part patterns, with how often a company uses each (first.last dominates in France).
EMAIL_PATTERNS: tuple[tuple[str, int], ...] = (
    ("first.last", 45), ("flast", 15), ("first", 8), ("firstlast", 8), ("f.last", 8),
    ("first_last", 5), ("last.first", 5), ("firstl", 3), ("last", 3),
)
