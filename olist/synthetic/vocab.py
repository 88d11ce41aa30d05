"""Reference vocabularies and calibration targets for the synthetic Olist generator.

The figures are the full public data set's published shape (counts in the sample's README and
the well-known marginals of the Kaggle release); conditional shapes (prices, installments,
review mix, delay rates) were checked against ``../shared/data/olist_sample`` with
``olist calibrate``. See ``docs/synthetic-data.md`` for the calibration table.
"""

from __future__ import annotations

from contracts.sources import SOURCES

# Exact header lines of the 9 Kaggle files (misspelled ``lenght`` included), from the contracts.
HEADERS: dict[str, list[str]] = {s.file: list(s.columns) for s in SOURCES}

# Full data set sizes at scale 1.0.
FULL_COUNTS = {
    "orders": 99_441,
    "items": 112_650,
    "payments": 103_886,
    "reviews": 99_224,
    "unique_customers": 96_096,
    "products": 32_951,
    "sellers": 3_095,
    "geolocation": 1_000_163,
    "zip_prefixes": 19_015,
}

# Orders per purchase month in the full data (2016-09 .. 2018-10), the seasonality shape.
MONTHLY_ORDERS: dict[str, int] = {
    "2016-09": 4, "2016-10": 324, "2016-12": 1,
    "2017-01": 800, "2017-02": 1780, "2017-03": 2682, "2017-04": 2404, "2017-05": 3700,
    "2017-06": 3245, "2017-07": 4026, "2017-08": 4331, "2017-09": 4285, "2017-10": 4631,
    "2017-11": 7544, "2017-12": 5673,
    "2018-01": 7269, "2018-02": 6728, "2018-03": 7211, "2018-04": 6939, "2018-05": 6873,
    "2018-06": 6167, "2018-07": 6292, "2018-08": 6512, "2018-09": 16, "2018-10": 4,
}
HISTORY_END = "2018-10-17 17:30:18"  # last purchase timestamp of the full data
BLACK_FRIDAY = "2017-11-24"

# Order status mix of the full data.
STATUS_MIX = {
    "delivered": 96_478, "shipped": 1_107, "canceled": 625, "unavailable": 609,
    "invoiced": 314, "processing": 301, "created": 5, "approved": 2,
}

# Customer state mix (share of orders) and seller state mix.
CUSTOMER_STATES = {
    "SP": 41746, "RJ": 12852, "MG": 11635, "RS": 5466, "PR": 5045, "SC": 3637, "BA": 3380,
    "DF": 2140, "ES": 2033, "GO": 2020, "PE": 1652, "CE": 1336, "PA": 975, "MT": 907,
    "MA": 747, "MS": 715, "PB": 536, "PI": 495, "RN": 485, "AL": 413, "SE": 350, "TO": 280,
    "RO": 253, "AM": 148, "AC": 81, "AP": 68, "RR": 46,
}
SELLER_STATES = {
    "SP": 1849, "PR": 349, "MG": 244, "SC": 190, "RJ": 171, "RS": 129, "GO": 40, "DF": 30,
    "ES": 23, "BA": 19, "CE": 13, "PE": 9, "PB": 6, "MS": 5, "RN": 5, "MT": 4, "RO": 2,
    "SE": 2, "PI": 1, "AC": 1, "MA": 1, "AM": 1, "PA": 1,
}

# Zip-prefix ranges per state (Correios CEP ranges, first five digits).
STATE_ZIP_RANGES: dict[str, list[tuple[int, int]]] = {
    "SP": [(1000, 19999)], "RJ": [(20000, 28999)], "ES": [(29000, 29999)],
    "MG": [(30000, 39999)], "BA": [(40000, 48999)], "SE": [(49000, 49999)],
    "PE": [(50000, 56999)], "AL": [(57000, 57999)], "PB": [(58000, 58999)],
    "RN": [(59000, 59999)], "CE": [(60000, 63999)], "PI": [(64000, 64999)],
    "MA": [(65000, 65999)], "PA": [(66000, 68899)], "AP": [(68900, 68999)],
    "AM": [(69000, 69299), (69400, 69899)], "RR": [(69300, 69399)], "AC": [(69900, 69999)],
    "DF": [(70000, 72799), (73000, 73699)], "GO": [(72800, 72999), (73700, 76799)],
    "RO": [(76800, 76999)], "TO": [(77000, 77999)], "MT": [(78000, 78899)],
    "MS": [(79000, 79999)], "PR": [(80000, 87999)], "SC": [(88000, 89999)],
    "RS": [(90000, 99999)],
}

# Approximate state centroids (lat, lng) and typical delivery days from the SP hub.
STATE_GEO: dict[str, tuple[float, float, float]] = {
    "SP": (-23.0, -47.0, 8.3), "RJ": (-22.5, -43.2, 14.8), "ES": (-19.8, -40.6, 15.3),
    "MG": (-19.5, -44.5, 11.5), "BA": (-12.9, -40.5, 18.9), "SE": (-10.8, -37.3, 21.0),
    "PE": (-8.2, -35.9, 17.9), "AL": (-9.6, -36.4, 24.0), "PB": (-7.2, -36.2, 20.0),
    "RN": (-5.8, -36.5, 18.8), "CE": (-4.3, -39.4, 20.8), "PI": (-6.9, -42.6, 18.9),
    "MA": (-4.9, -45.2, 21.1), "PA": (-2.5, -49.5, 23.3), "AP": (0.5, -51.5, 26.7),
    "AM": (-3.3, -60.5, 26.0), "RR": (2.5, -61.0, 29.0), "AC": (-9.5, -69.5, 20.6),
    "DF": (-15.8, -47.9, 12.5), "GO": (-16.5, -49.5, 15.2), "RO": (-10.8, -62.8, 18.9),
    "TO": (-10.2, -48.3, 17.2), "MT": (-13.5, -56.0, 17.6), "MS": (-20.5, -54.6, 15.2),
    "PR": (-24.8, -51.0, 11.5), "SC": (-27.2, -50.2, 14.5), "RS": (-29.8, -52.5, 14.8),
}

# A few real cities per state (accented as Brazilians write them), capital first.
STATE_CITIES: dict[str, list[str]] = {
    "SP": ["são paulo", "campinas", "guarulhos", "são bernardo do campo", "santo andré",
           "osasco", "santos", "ribeirão preto", "sorocaba", "são josé dos campos",
           "jundiaí", "piracicaba", "bauru", "mogi das cruzes", "barueri"],
    "RJ": ["rio de janeiro", "niterói", "são gonçalo", "duque de caxias", "nova iguaçu",
           "petrópolis", "volta redonda", "campos dos goytacazes", "macaé"],
    "MG": ["belo horizonte", "contagem", "juiz de fora", "uberlândia", "betim",
           "montes claros", "ipatinga", "uberaba", "governador valadares"],
    "ES": ["vitória", "vila velha", "serra", "cariacica", "cachoeiro de itapemirim"],
    "BA": ["salvador", "feira de santana", "vitória da conquista", "camaçari", "ilhéus"],
    "SE": ["aracaju", "nossa senhora do socorro", "lagarto"],
    "PE": ["recife", "jaboatão dos guararapes", "olinda", "caruaru", "petrolina"],
    "AL": ["maceió", "arapiraca", "rio largo"],
    "PB": ["joão pessoa", "campina grande", "santa rita"],
    "RN": ["natal", "mossoró", "parnamirim"],
    "CE": ["fortaleza", "caucaia", "juazeiro do norte", "maracanaú", "sobral"],
    "PI": ["teresina", "parnaíba", "picos"],
    "MA": ["são luís", "imperatriz", "timon", "caxias"],
    "PA": ["belém", "ananindeua", "santarém", "marabá"],
    "AP": ["macapá", "santana"],
    "AM": ["manaus", "parintins", "itacoatiara"],
    "RR": ["boa vista", "rorainópolis"],
    "AC": ["rio branco", "cruzeiro do sul"],
    "DF": ["brasília", "taguatinga", "ceilândia", "gama", "sobradinho"],
    "GO": ["goiânia", "aparecida de goiânia", "anápolis", "rio verde"],
    "RO": ["porto velho", "ji-paraná", "ariquemes"],
    "TO": ["palmas", "araguaína", "gurupi"],
    "MT": ["cuiabá", "várzea grande", "rondonópolis", "sinop"],
    "MS": ["campo grande", "dourados", "três lagoas"],
    "PR": ["curitiba", "londrina", "maringá", "ponta grossa", "cascavel", "são josé dos pinhais",
           "foz do iguaçu"],
    "SC": ["florianópolis", "joinville", "blumenau", "são josé", "itajaí", "chapecó",
           "criciúma"],
    "RS": ["porto alegre", "caxias do sul", "pelotas", "canoas", "santa maria", "gravataí",
           "novo hamburgo"],
}
# Parts for the long tail of small towns.
TOWN_HEADS = ["santa", "são", "nova", "bom jesus", "porto", "campo", "rio", "vila", "serra",
              "alto", "monte", "lagoa", "barra", "ponte", "três"]
TOWN_BODIES = ["rita", "josé", "luzia", "cruz", "esperança", "alegre", "bonito", "verde",
               "grande", "bela", "fé", "união", "paraíso", "vista", "formosa", "joão"]
TOWN_TAILS = ["", "", "", " do sul", " do norte", " da serra", " dos campos", " d'oeste",
              " do piauí", " de minas", " paulista"]

# The 71 translated categories, with relative item volume in the full data.
CATEGORIES: list[tuple[str, str, int]] = [
    ("cama_mesa_banho", "bed_bath_table", 11115), ("beleza_saude", "health_beauty", 9670),
    ("esporte_lazer", "sports_leisure", 8641), ("moveis_decoracao", "furniture_decor", 8334),
    ("informatica_acessorios", "computers_accessories", 7827),
    ("utilidades_domesticas", "housewares", 6964), ("relogios_presentes", "watches_gifts", 5991),
    ("telefonia", "telephony", 4545), ("ferramentas_jardim", "garden_tools", 4347),
    ("automotivo", "auto", 4235), ("brinquedos", "toys", 4117), ("cool_stuff", "cool_stuff", 3796),
    ("perfumaria", "perfumery", 3419), ("bebes", "baby", 3065), ("eletronicos", "electronics", 2767),
    ("papelaria", "stationery", 2517),
    ("fashion_bolsas_e_acessorios", "fashion_bags_accessories", 2031),
    ("pet_shop", "pet_shop", 1947), ("moveis_escritorio", "office_furniture", 1691),
    ("consoles_games", "consoles_games", 1137), ("malas_acessorios", "luggage_accessories", 1092),
    ("construcao_ferramentas_construcao", "construction_tools_construction", 929),
    ("eletrodomesticos", "home_appliances", 771),
    ("instrumentos_musicais", "musical_instruments", 680),
    ("eletroportateis", "small_appliances", 679), ("casa_construcao", "home_construction", 604),
    ("livros_interesse_geral", "books_general_interest", 553), ("alimentos", "food", 510),
    ("moveis_sala", "furniture_living_room", 503), ("casa_conforto", "home_confort", 434),
    ("bebidas", "drinks", 379), ("audio", "audio", 364), ("market_place", "market_place", 311),
    ("construcao_ferramentas_iluminacao", "construction_tools_lights", 304),
    ("climatizacao", "air_conditioning", 297),
    ("moveis_cozinha_area_de_servico_jantar_e_jardim", "kitchen_dining_laundry_garden_furniture", 281),
    ("alimentos_bebidas", "food_drink", 278),
    ("industria_comercio_e_negocios", "industry_commerce_and_business", 268),
    ("livros_tecnicos", "books_technical", 267), ("fashion_calcados", "fashion_shoes", 262),
    ("telefonia_fixa", "fixed_telephony", 264), ("eletrodomesticos_2", "home_appliances_2", 238),
    ("construcao_ferramentas_jardim", "costruction_tools_garden", 238),
    ("agro_industria_e_comercio", "agro_industry_and_commerce", 212), ("artes", "art", 209),
    ("pcs", "computers", 203), ("sinalizacao_e_seguranca", "signaling_and_security", 199),
    ("construcao_ferramentas_seguranca", "construction_tools_safety", 194),
    ("artigos_de_natal", "christmas_supplies", 153),
    ("fashion_roupa_masculina", "fashion_male_clothing", 132),
    ("fashion_underwear_e_moda_praia", "fashion_underwear_beach", 131),
    ("moveis_quarto", "furniture_bedroom", 109),
    ("construcao_ferramentas_ferramentas", "costruction_tools_tools", 103),
    ("tablets_impressao_imagem", "tablets_printing_image", 83),
    ("portateis_casa_forno_e_cafe", "small_appliances_home_oven_and_coffee", 76),
    ("cine_foto", "cine_photo", 72), ("dvds_blu_ray", "dvds_blu_ray", 64),
    ("livros_importados", "books_imported", 60),
    ("fashion_roupa_feminina", "fashio_female_clothing", 48),
    ("artigos_de_festas", "party_supplies", 43), ("fraldas_higiene", "diapers_and_hygiene", 39),
    ("moveis_colchao_e_estofado", "furniture_mattress_and_upholstery", 38),
    ("musica", "music", 38), ("flores", "flowers", 33), ("casa_conforto_2", "home_comfort_2", 30),
    ("fashion_esporte", "fashion_sport", 30),
    ("artes_e_artesanato", "arts_and_craftmanship", 24), ("la_cuisine", "la_cuisine", 14),
    ("cds_dvds_musicais", "cds_dvds_musicals", 14),
    ("fashion_roupa_infanto_juvenil", "fashion_childrens_clothes", 8),
    ("seguros_e_servicos", "security_and_services", 2),
]
# Categories that appear in products but are missing from the translation file (a real quirk).
UNTRANSLATED_CATEGORIES: list[tuple[str, int]] = [
    ("portateis_cozinha_e_preparadores_de_alimentos", 15), ("pc_gamer", 9),
]
# Categories whose buyers come back more often (consumables): feeds the latent repeat rate.
REPEAT_CATEGORIES = {
    "beleza_saude", "perfumaria", "pet_shop", "bebes", "fraldas_higiene", "alimentos",
    "alimentos_bebidas", "bebidas", "cama_mesa_banho", "papelaria", "utilidades_domesticas",
}

# Credit-card installment counts (share of credit-card payments; 0 is a real quirk).
INSTALLMENTS = {
    1: 25455, 2: 12413, 3: 10461, 4: 7098, 5: 5239, 6: 3920, 7: 1626, 8: 4268, 9: 644,
    10: 5328, 11: 23, 12: 133, 13: 16, 14: 15, 15: 74, 16: 5, 17: 8, 18: 27, 20: 17, 21: 3,
    22: 1, 23: 1, 24: 18, 0: 2,
}
PAYMENT_TYPES = {"credit_card": 0.775, "boleto": 0.199, "debit_card": 0.015, "voucher": 0.011}

# Review comment phrase banks (Portuguese, accents intended).
GOOD_TITLES = ["Ótimo", "Recomendo", "Excelente produto", "Muito bom", "Super recomendo",
               "Chegou rápido", "Adorei", "Perfeito"]
BAD_TITLES = ["Não recebi", "Péssimo", "Produto errado", "Atrasou", "Não recomendo",
              "Decepcionado", "Horrível"]
GOOD_MESSAGES = [
    "Produto de ótima qualidade, chegou antes do prazo.",
    "Recomendo a loja, entrega rápida e produto conforme anunciado.",
    "Muito bom, superou minhas expectativas!",
    "Tudo certo, chegou bem embalado.",
    "Gostei muito, comprarei novamente.",
    "Entrega no prazo, vendedor atencioso.",
    "Excelente custo-benefício.",
]
BAD_MESSAGES = [
    "Ainda não recebi o produto e o prazo já passou.",
    "O produto veio com defeito, quero trocar.",
    "Comprei dois itens e só chegou um.",
    "Péssimo atendimento, ninguém responde.",
    "Produto diferente do anunciado, não recomendo.",
    "Entrega atrasada mais de uma semana, muito chato.",
    "Veio quebrado, estou aguardando a devolução do dinheiro.",
]
MIXED_MESSAGES = [
    "O produto é bom mas demorou para chegar.",
    "Razoável, esperava um pouco mais pelo preço.",
    "Chegou certo, mas a embalagem estava amassada.",
]
