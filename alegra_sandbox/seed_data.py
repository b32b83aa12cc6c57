"""Word lists for realistic Colombian demo data."""

CITIES = [
    ("Bogotá", "Bogotá D.C.", "601"), ("Medellín", "Antioquia", "604"), ("Cali", "Valle del Cauca", "602"),
    ("Barranquilla", "Atlántico", "605"), ("Cartagena", "Bolívar", "605"), ("Bucaramanga", "Santander", "607"),
    ("Pereira", "Risaralda", "606"), ("Manizales", "Caldas", "606"), ("Cúcuta", "Norte de Santander", "607"),
    ("Ibagué", "Tolima", "608"), ("Santa Marta", "Magdalena", "605"), ("Villavicencio", "Meta", "608"),
    ("Pasto", "Nariño", "602"), ("Armenia", "Quindío", "606"), ("Neiva", "Huila", "608"),
    ("Montería", "Córdoba", "604"), ("Popayán", "Cauca", "602"), ("Tunja", "Boyacá", "608"),
    ("Envigado", "Antioquia", "604"), ("Soacha", "Cundinamarca", "601"),
]

FIRST_NAMES = [
    "Juan Carlos", "María Fernanda", "Andrés Felipe", "Luisa", "Carlos Alberto", "Diana Marcela",
    "José Luis", "Paola Andrea", "Santiago", "Valentina", "Jorge Iván", "Claudia Patricia", "Camilo",
    "Natalia", "Óscar", "Ángela María", "Julián", "Sandra Milena", "Felipe", "Catalina", "Héctor",
    "Lina María", "Mauricio", "Adriana", "Sebastián", "Gloria Inés", "Alejandro", "Juliana",
]
SURNAMES = [
    "Rodríguez", "Gómez", "González", "Martínez", "García", "López", "Hernández", "Sánchez", "Ramírez",
    "Pérez", "Díaz", "Muñoz", "Rojas", "Moreno", "Jiménez", "Vargas", "Castro", "Restrepo", "Ospina",
    "Zapata", "Cárdenas", "Quintero", "Londoño", "Arango", "Henao", "Giraldo", "Salazar", "Valencia",
    "Mejía", "Cardona", "Betancur", "Ríos", "Osorio", "Patiño", "Duque", "Uribe",
]
COMPANY_WORDS = [
    "Andina", "del Valle", "Pacífico", "Caribe", "Cafetera", "Antioqueña", "Santandereana", "Llanera",
    "La Sabana", "El Dorado", "Montaña", "Los Andes", "Nevado", "Magdalena", "Guadua", "Orquídea",
    "Cóndor", "Ceiba", "Yarumo", "Esmeralda", "Macondo", "Tequendama", "Chicamocha", "Quimbaya",
]
COMPANY_KINDS = [
    "Ferretería", "Distribuidora", "Comercializadora", "Constructora", "Inversiones", "Servicios",
    "Transportes", "Suministros", "Droguería", "Panadería", "Restaurante", "Papelería", "Tecnología",
    "Agropecuaria", "Confecciones", "Muebles",
]
LEGAL_FORMS = ["S.A.S.", "S.A.S.", "S.A.S.", "Ltda.", "S.A.", "& Cía. S. en C."]
STREETS = ["Calle", "Carrera", "Avenida", "Transversal", "Diagonal", "Avenida Calle", "Avenida Carrera"]

# (name, unit, base price in COP including IVA, tax key, category)
ITEMS = [
    ("Cemento gris uso general 50 kg", "unit", 32900, "iva19", "Construcción"),
    ("Varilla corrugada 1/2\" x 6 m", "unit", 27500, "iva19", "Construcción"),
    ("Ladrillo tolete común", "unit", 950, "iva19", "Construcción"),
    ("Arena de río", "m3", 98000, "iva19", "Construcción"),
    ("Pintura vinilo tipo 1 galón blanco", "unit", 89900, "iva19", "Pinturas"),
    ("Esmalte sintético 1/4 galón", "unit", 38500, "iva19", "Pinturas"),
    ("Rodillo felpa 9\"", "unit", 14900, "iva19", "Pinturas"),
    ("Brocha 3\" cerda natural", "unit", 7800, "iva19", "Pinturas"),
    ("Tubo PVC presión 1/2\" x 6 m", "unit", 16400, "iva19", "Plomería"),
    ("Codo PVC 1/2\" x 90°", "unit", 650, "iva19", "Plomería"),
    ("Llave de paso 1/2\" cromada", "unit", 24900, "iva19", "Plomería"),
    ("Cable eléctrico THHN 12 AWG", "m", 2350, "iva19", "Eléctricos"),
    ("Interruptor sencillo", "unit", 6900, "iva19", "Eléctricos"),
    ("Bombillo LED 9 W luz blanca", "unit", 5900, "iva19", "Eléctricos"),
    ("Taladro percutor 1/2\" 650 W", "unit", 289000, "iva19", "Herramientas"),
    ("Juego de destornilladores x 6", "unit", 34900, "iva19", "Herramientas"),
    ("Martillo de uña 16 oz", "unit", 28900, "iva19", "Herramientas"),
    ("Flexómetro 5 m", "unit", 15900, "iva19", "Herramientas"),
    ("Tornillo drywall 6 x 1\" (caja x 100)", "unit", 9800, "iva19", "Ferretería"),
    ("Puntilla con cabeza 2\"", "kg", 11200, "iva19", "Ferretería"),
    ("Candado de seguridad 40 mm", "unit", 22900, "iva19", "Ferretería"),
    ("Guantes de nitrilo (par)", "unit", 4500, "iva19", "Seguridad"),
    ("Casco de seguridad tipo II", "unit", 32000, "iva19", "Seguridad"),
    ("Resma papel carta 75 g", "unit", 21900, "iva19", "Papelería"),
    ("Cuaderno argollado 100 hojas", "unit", 9900, "iva19", "Papelería"),
    ("Bolígrafo tinta negra (caja x 12)", "unit", 14400, "iva19", "Papelería"),
    ("Tóner impresora láser", "unit", 245000, "iva19", "Papelería"),
    ("Portátil 14\" Core i5 16 GB", "unit", 3299000, "iva19", "Tecnología"),
    ("Monitor 24\" Full HD", "unit", 689000, "iva19", "Tecnología"),
    ("Mouse inalámbrico", "unit", 49900, "iva19", "Tecnología"),
    ("Teclado USB en español", "unit", 39900, "iva19", "Tecnología"),
    ("Disco de estado sólido 1 TB", "unit", 329000, "iva19", "Tecnología"),
    ("Licencia antivirus anual", "unit", 119000, "iva19", "Software"),
    ("Mantenimiento preventivo", "service", 19928, "iva19", "Servicios"),
    ("Hora de soporte técnico", "service", 95000, "iva19", "Servicios"),
    ("Instalación de red por punto", "service", 180000, "iva19", "Servicios"),
    ("Asesoría contable mensual", "service", 850000, "iva19", "Servicios"),
    ("Transporte de carga urbano", "service", 250000, "iva19", "Servicios"),
    ("Arrendamiento de andamio (día)", "service", 18000, "iva19", "Servicios"),
    ("Café molido 500 g", "unit", 18900, "iva5", "Alimentos"),
    ("Chocolate de mesa 500 g", "unit", 12900, "iva5", "Alimentos"),
    ("Azúcar refinada 1 kg", "kg", 4900, "iva5", "Alimentos"),
    ("Aceite vegetal 3 L", "unit", 32900, "iva5", "Alimentos"),
    ("Pasta larga 500 g", "unit", 3900, "iva5", "Alimentos"),
    ("Arroz blanco 5 kg", "unit", 24500, "iva0", "Alimentos"),
    ("Huevos AA x 30", "unit", 17900, "iva0", "Alimentos"),
    ("Leche entera 1 L", "unit", 4300, "iva0", "Alimentos"),
    ("Papa pastusa", "kg", 2600, "iva0", "Alimentos"),
    ("Panela 1 kg", "kg", 5200, "iva0", "Alimentos"),
    ("Carne de res molida", "kg", 26900, "iva0", "Alimentos"),
    ("Acetaminofén 500 mg x 100", "unit", 8900, "iva0", "Droguería"),
    ("Alcohol antiséptico 700 ml", "unit", 9500, "iva19", "Droguería"),
    ("Tapabocas quirúrgico (caja x 50)", "unit", 12000, "iva0", "Droguería"),
    ("Almuerzo ejecutivo", "service", 18500, "inc8", "Restaurante"),
    ("Bandeja paisa", "service", 32000, "inc8", "Restaurante"),
    ("Refajo jarra 1,5 L", "service", 16000, "inc8", "Restaurante"),
    ("Camiseta polo bordada", "unit", 45000, "iva19", "Confecciones"),
    ("Overol de dotación", "unit", 89000, "iva19", "Confecciones"),
    ("Silla ergonómica de oficina", "unit", 529000, "iva19", "Muebles"),
    ("Escritorio en L melamina", "unit", 789000, "iva19", "Muebles"),
    ("Archivador metálico 4 gavetas", "unit", 645000, "iva19", "Muebles"),
]

OBSERVATIONS = [
    "Pedido No. {n}", "Orden de compra OC-{n}", "Entrega en obra", "Cliente recoge en bodega",
    "Despacho parcial, saldo pendiente", "Según cotización COT-{n}",
]
ANOTATIONS = [
    "Gracias por su compra.", "Favor consignar en la cuenta de ahorros Bancolombia No. 123-456789-01.",
    "Garantía de 6 meses por defectos de fábrica.",
]
