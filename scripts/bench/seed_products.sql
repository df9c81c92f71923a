-- Seeds a shop's catalog with :n realistic products for the benchmarks (scripts/bench.sh).
-- Run as a superuser (bypasses row level security) with psql variables:
--   schema    the shop's schema, e.g. tenant_1
--   tenant_id the shop's id (the stock movement trigger and the policies read app.tenant_id)
--   n         how many products to add
-- Deterministic: the same :n always gives the same names, SKUs, barcodes, prices and stock, so
-- runs compare. Names combine a product type, a brand, sometimes a variant and a size, in
-- Spanish with accents ("Yerba mate Ñandú 500 g", "Galletitas de agua Crucero 300 g").
-- SKUs are <prefix>-<6 digits> (the demo's own are <prefix>-<3 digits>), barcodes valid EAN-13
-- starting with 780 (the demo's start with 779).

\set ON_ERROR_STOP 1
set search_path = :"schema", app, pg_catalog;
set app.tenant_id = :'tenant_id';

begin;

-- about 20 categories: the demo's 7 and 13 more
insert into categories (name)
select x from unnest(array[
    'Almacén', 'Bebidas', 'Lácteos', 'Fiambrería', 'Limpieza', 'Kiosco', 'Verdulería', 'Panadería',
    'Congelados', 'Perfumería', 'Bazar', 'Mascotas', 'Bebés', 'Golosinas', 'Desayuno', 'Conservas',
    'Especias', 'Vinoteca', 'Ferretería', 'Librería']) x
 where not exists (select 1 from categories c where app.fold(c.name) = app.fold(x));

create temp table bench_types (
    idx      serial,
    name     text not null,
    category text not null,
    sizes    text[] not null,
    unit     text not null,
    price    numeric not null,
    prefix   text not null
) on commit drop;

insert into bench_types (name, category, sizes, unit, price, prefix) values
    ('Yerba mate', 'Almacén', '{"500 g","1 kg","2 kg"}', 'u', 3500, 'YER'),
    ('Yerba mate compuesta', 'Almacén', '{"500 g","1 kg"}', 'u', 3800, 'YEC'),
    ('Azúcar', 'Almacén', '{"1 kg","2 kg"}', 'u', 1300, 'AZU'),
    ('Arroz largo fino', 'Almacén', '{"500 g","1 kg"}', 'u', 1800, 'ARR'),
    ('Fideos tirabuzón', 'Almacén', '{"500 g"}', 'u', 1100, 'FTI'),
    ('Fideos spaghetti', 'Almacén', '{"500 g","1 kg"}', 'u', 1150, 'FSP'),
    ('Aceite de girasol', 'Almacén', '{"900 ml","1,5 l","3 l"}', 'u', 3800, 'ACG'),
    ('Aceite de oliva extra virgen', 'Almacén', '{"500 ml","1 l"}', 'u', 9500, 'ACO'),
    ('Harina 000', 'Almacén', '{"1 kg"}', 'u', 950, 'HAR'),
    ('Harina leudante', 'Almacén', '{"1 kg"}', 'u', 1200, 'HAL'),
    ('Polenta instantánea', 'Almacén', '{"500 g","1 kg"}', 'u', 1000, 'POL'),
    ('Sal fina', 'Almacén', '{"500 g","1 kg"}', 'u', 700, 'SAL'),
    ('Lentejas', 'Almacén', '{"400 g","1 kg"}', 'u', 1600, 'LEN'),
    ('Puré de tomate', 'Almacén', '{"520 g","1 kg"}', 'u', 900, 'PUR'),
    ('Mayonesa', 'Almacén', '{"250 g","500 g","1 kg"}', 'u', 1900, 'MAY'),
    ('Vinagre de alcohol', 'Almacén', '{"500 ml","1 l"}', 'u', 800, 'VIA'),
    ('Gaseosa cola', 'Bebidas', '{"500 ml","1,5 l","2,25 l"}', 'u', 2500, 'GCO'),
    ('Gaseosa lima limón', 'Bebidas', '{"500 ml","1,5 l","2,25 l"}', 'u', 2300, 'GLL'),
    ('Agua mineral sin gas', 'Bebidas', '{"500 ml","2 l","6,25 l"}', 'u', 1100, 'AGU'),
    ('Agua con gas', 'Bebidas', '{"500 ml","1,5 l"}', 'u', 1100, 'AGG'),
    ('Jugo de naranja', 'Bebidas', '{"1 l","1,5 l"}', 'u', 1700, 'JUG'),
    ('Cerveza rubia', 'Bebidas', '{"lata 473 ml","botella 1 l","pack x 6"}', 'u', 1500, 'CER'),
    ('Agua saborizada pomelo', 'Bebidas', '{"500 ml","1,5 l"}', 'u', 1300, 'ASP'),
    ('Bebida isotónica', 'Bebidas', '{"500 ml","1 l"}', 'u', 1600, 'ISO'),
    ('Leche entera', 'Lácteos', '{"1 l"}', 'u', 1300, 'LEC'),
    ('Leche descremada', 'Lácteos', '{"1 l"}', 'u', 1350, 'LED'),
    ('Yogur bebible frutilla', 'Lácteos', '{"200 g","1 l"}', 'u', 1700, 'YOG'),
    ('Queso crema', 'Lácteos', '{"180 g","290 g"}', 'u', 2400, 'QCR'),
    ('Manteca', 'Lácteos', '{"100 g","200 g"}', 'u', 2100, 'MAN'),
    ('Dulce de leche', 'Lácteos', '{"250 g","400 g","1 kg"}', 'u', 2600, 'DDL'),
    ('Crema de leche', 'Lácteos', '{"200 ml","350 ml"}', 'u', 2200, 'CRE'),
    ('Jamón cocido', 'Fiambrería', '{"feteado 100 g","feteado 200 g","x kg"}', 'u', 3500, 'JAM'),
    ('Salame milán', 'Fiambrería', '{"feteado 100 g","x kg"}', 'u', 4200, 'SLM'),
    ('Queso de máquina', 'Fiambrería', '{"feteado 150 g","x kg"}', 'u', 3200, 'QMA'),
    ('Mortadela', 'Fiambrería', '{"feteada 200 g","x kg"}', 'u', 1900, 'MOR'),
    ('Lavandina', 'Limpieza', '{"1 l","2 l","4 l"}', 'u', 950, 'LAV'),
    ('Detergente limón', 'Limpieza', '{"300 ml","500 ml","750 ml"}', 'u', 1600, 'DET'),
    ('Limpiador de pisos lavanda', 'Limpieza', '{"900 ml","1,8 l"}', 'u', 1500, 'LPI'),
    ('Jabón en polvo', 'Limpieza', '{"400 g","800 g","3 kg"}', 'u', 3900, 'JPO'),
    ('Suavizante', 'Limpieza', '{"900 ml","3 l"}', 'u', 2100, 'SUA'),
    ('Esponja multiuso', 'Limpieza', '{"x 1","pack x 3"}', 'u', 700, 'ESP'),
    ('Alfajor triple chocolate', 'Kiosco', '{"x 1","caja x 6","caja x 12"}', 'u', 900, 'ALF'),
    ('Chicles menta', 'Kiosco', '{"x 1","caja x 20"}', 'u', 450, 'CHI'),
    ('Caramelos masticables', 'Kiosco', '{"150 g","bolsa 800 g"}', 'u', 1200, 'CAR'),
    ('Turrón de maní', 'Kiosco', '{"25 g","caja x 50"}', 'u', 300, 'TUR'),
    ('Chocolate con leche', 'Golosinas', '{"25 g","80 g","150 g"}', 'u', 1800, 'CHO'),
    ('Chupetín frutal', 'Golosinas', '{"x 1","bolsa x 50"}', 'u', 150, 'CHU'),
    ('Gomitas ácidas', 'Golosinas', '{"30 g","100 g"}', 'u', 800, 'GOM'),
    ('Bombones surtidos', 'Golosinas', '{"caja 125 g","caja 250 g"}', 'u', 5200, 'BOM'),
    ('Galletitas de agua', 'Panadería', '{"100 g","300 g","pack x 3"}', 'u', 1100, 'GAL'),
    ('Galletitas dulces vainilla', 'Panadería', '{"150 g","300 g"}', 'u', 1000, 'GDV'),
    ('Pan lactal', 'Panadería', '{"350 g","550 g"}', 'u', 2300, 'PAN'),
    ('Tostadas de arroz', 'Panadería', '{"150 g"}', 'u', 1400, 'TOS'),
    ('Bizcochos de grasa', 'Panadería', '{"200 g","x kg"}', 'u', 1300, 'BIZ'),
    ('Hamburguesas de carne', 'Congelados', '{"x 4","x 12"}', 'u', 3800, 'HAM'),
    ('Papas fritas congeladas', 'Congelados', '{"720 g","1,5 kg"}', 'u', 3200, 'PFC'),
    ('Helado de dulce de leche', 'Congelados', '{"1 kg","1/4 kg"}', 'u', 6500, 'HEL'),
    ('Medallones de merluza', 'Congelados', '{"x 4","x 10"}', 'u', 4100, 'MER'),
    ('Shampoo', 'Perfumería', '{"200 ml","400 ml","930 ml"}', 'u', 2900, 'SHA'),
    ('Acondicionador', 'Perfumería', '{"200 ml","400 ml"}', 'u', 2900, 'ACN'),
    ('Jabón de tocador', 'Perfumería', '{"x 1","pack x 3"}', 'u', 900, 'JTO'),
    ('Desodorante en aerosol', 'Perfumería', '{"150 ml"}', 'u', 2600, 'DES'),
    ('Pasta dental', 'Perfumería', '{"90 g","180 g"}', 'u', 1800, 'PDE'),
    ('Papel higiénico', 'Perfumería', '{"x 4","x 12","x 24"}', 'u', 2300, 'PHI'),
    ('Vaso de vidrio', 'Bazar', '{"x 1","set x 6"}', 'u', 1500, 'VAS'),
    ('Taza cerámica', 'Bazar', '{"x 1","set x 4"}', 'u', 2800, 'TAZ'),
    ('Bolsas de residuos', 'Bazar', '{"x 10","x 30"}', 'u', 900, 'BRE'),
    ('Papel aluminio', 'Bazar', '{"5 m","20 m"}', 'u', 1700, 'ALU'),
    ('Alimento para perros adultos', 'Mascotas', '{"1,5 kg","3 kg","15 kg"}', 'u', 9000, 'APE'),
    ('Alimento para gatos', 'Mascotas', '{"500 g","1 kg","7,5 kg"}', 'u', 7000, 'AGA'),
    ('Piedras sanitarias', 'Mascotas', '{"2 kg","4 kg"}', 'u', 2500, 'PSA'),
    ('Pañales', 'Bebés', '{"P x 30","M x 28","G x 24","XG x 20"}', 'u', 12000, 'PAÑ'),
    ('Toallitas húmedas', 'Bebés', '{"x 50","x 100"}', 'u', 2300, 'TOA'),
    ('Leche en polvo infantil', 'Bebés', '{"400 g","800 g"}', 'u', 11000, 'LPO'),
    ('Café molido', 'Desayuno', '{"250 g","500 g"}', 'u', 4500, 'CAF'),
    ('Café instantáneo', 'Desayuno', '{"50 g","170 g"}', 'u', 3900, 'CAI'),
    ('Té negro', 'Desayuno', '{"x 25 saquitos","x 50 saquitos","x 100 saquitos"}', 'u', 900, 'TEN'),
    ('Mate cocido', 'Desayuno', '{"x 25 saquitos","x 50 saquitos"}', 'u', 1000, 'MCO'),
    ('Cacao en polvo', 'Desayuno', '{"180 g","360 g","800 g"}', 'u', 2400, 'CAC'),
    ('Mermelada de durazno', 'Desayuno', '{"390 g","454 g"}', 'u', 1900, 'MED'),
    ('Atún al natural', 'Conservas', '{"170 g"}', 'u', 2200, 'ATU'),
    ('Arvejas secas remojadas', 'Conservas', '{"300 g","350 g"}', 'u', 700, 'ARV'),
    ('Choclo cremoso', 'Conservas', '{"300 g","350 g"}', 'u', 1100, 'CHC'),
    ('Duraznos en almíbar', 'Conservas', '{"820 g"}', 'u', 2700, 'DUR'),
    ('Sardinas en aceite', 'Conservas', '{"125 g"}', 'u', 1600, 'SAR'),
    ('Orégano', 'Especias', '{"25 g","50 g"}', 'u', 600, 'ORE'),
    ('Pimentón dulce', 'Especias', '{"25 g","50 g"}', 'u', 700, 'PIM'),
    ('Comino molido', 'Especias', '{"25 g"}', 'u', 650, 'COM'),
    ('Ají molido', 'Especias', '{"25 g","50 g"}', 'u', 600, 'AJI'),
    ('Pimienta negra en grano', 'Especias', '{"25 g","50 g"}', 'u', 900, 'PIN'),
    ('Vino tinto Malbec', 'Vinoteca', '{"750 ml","1,125 l"}', 'u', 5200, 'VMA'),
    ('Vino blanco Torrontés', 'Vinoteca', '{"750 ml"}', 'u', 4800, 'VTO'),
    ('Espumante extra brut', 'Vinoteca', '{"750 ml"}', 'u', 7800, 'ESB'),
    ('Fernet', 'Vinoteca', '{"450 ml","750 ml","1 l"}', 'u', 9800, 'FER'),
    ('Pilas alcalinas AA', 'Ferretería', '{"x 2","x 4"}', 'u', 2500, 'PIL'),
    ('Lámpara LED', 'Ferretería', '{"9 W","12 W","15 W"}', 'u', 1900, 'LAM'),
    ('Cinta aisladora', 'Ferretería', '{"10 m","20 m"}', 'u', 800, 'CIN'),
    ('Cuaderno rayado', 'Librería', '{"48 hojas","84 hojas"}', 'u', 2100, 'CUA'),
    ('Lapicera azul', 'Librería', '{"x 1","caja x 50"}', 'u', 500, 'LAP'),
    ('Resma A4', 'Librería', '{"500 hojas"}', 'u', 8900, 'RES'),
    ('Papa negra', 'Verdulería', '{"granel","bolsa 2 kg","bolsa 5 kg"}', 'kg', 900, 'PAP'),
    ('Tomate redondo', 'Verdulería', '{"granel"}', 'kg', 2200, 'TOM'),
    ('Banana Ecuador', 'Verdulería', '{"granel"}', 'kg', 1900, 'BAN'),
    ('Cebolla', 'Verdulería', '{"granel","bolsa 3 kg"}', 'kg', 1100, 'CEB'),
    ('Manzana roja', 'Verdulería', '{"granel","bolsa 1 kg"}', 'kg', 2100, 'MZR');

-- SKU prefixes must be ASCII (products_sku_check)
update bench_types set prefix = translate(prefix, 'Ñ', 'N');

create temp table bench_words (kind text, words text[]) on commit drop;
insert into bench_words values
    ('brand', array[
        'Ñandú', 'Crucero', 'La Paulina', 'Don Justo', 'El Ñato', 'San Ignacio', 'Patagonia', 'Los Andes',
        'La Campiña', 'Mañanita', 'Buen Día', 'Tío Pancho', 'La Serrana', 'Doña Rosa', 'Güemes', 'Cañuelas',
        'El Colono', 'Pampa', 'Río Negro', 'Cumbre', 'Tandil', 'Cordillera', 'Aurora', 'Quilmeño',
        'Santa Fe', 'Colón', 'Mburucuyá', 'Iguazú', 'Paraná', 'Añelo', 'Puán', 'Junín', 'Pehuén',
        'Araucaria', 'Ñire', 'Chañar', 'Algarrobo', 'Quebracho', 'Tacurú', 'Yacaré', 'Carpincho',
        'Hornero', 'Zorzal', 'Benteveo', 'Calandria', 'Tero', 'Ñandutí', 'Lapacho', 'Jacarandá', 'Ceibo',
        'Tipa', 'Caldén', 'Piquillín', 'Molle', 'Jarilla', 'Tala', 'Sol de Mayo', 'Estancia Vieja',
        'Don Ramón', 'La Martona']),
    ('variant', array[
        '', '', '', '', '', 'clásico', 'light', 'sin TACC', 'premium', 'familiar', 'suave', 'intenso',
        'orgánico', 'económico', 'original', 'reducido en sodio', 'edición limitada']);

-- EAN-13: 12 digits and their check digit
create function pg_temp.ean13(d text) returns text language sql immutable as $$
    select d || ((10 - (select sum(substr(d, k, 1)::int * case when k % 2 = 0 then 3 else 1 end)
                          from generate_series(1, 12) k) % 10) % 10)::text
$$;

insert into products (sku, barcode, name, description, category_id, unit_id, price, cost, min_stock,
                      track_stock, active)
select t.prefix || '-' || lpad(g.i::text, 6, '0'),
       pg_temp.ean13('780' || lpad(g.i::text, 9, '0')),
       t.name || ' ' || b.words[1 + g.h2 % cardinality(b.words)]
           || coalesce(' ' || nullif(v.words[1 + g.h3 % cardinality(v.words)], ''), '')
           || ' ' || t.sizes[1 + g.h4 % cardinality(t.sizes)],
       case when g.h5 % 10 = 0 then 'Producto de prueba del banco de carga.' else '' end,
       c.id, u.id,
       round(t.price * (0.7 + (g.h5 % 600) / 1000.0), -1),
       round(t.price * (0.7 + (g.h5 % 600) / 1000.0) * 0.7, 2),
       (g.h4 % 12)::numeric,
       g.h3 % 20 <> 0,   -- 5 % not stock-tracked
       g.h2 % 33 <> 0    -- 3 % inactive
  from (select i,
               (hashint4(i)::bigint + 2147483648) h1,
               (hashint4(i + 1000003)::bigint + 2147483648) h2,
               (hashint4(i + 2000003)::bigint + 2147483648) h3,
               (hashint4(i + 3000017)::bigint + 2147483648) h4,
               (hashint4(i + 4000037)::bigint + 2147483648) h5
          from generate_series(1, :n) i) g
  join bench_types t on t.idx = 1 + g.h1 % (select count(*) from bench_types)
  join categories c on app.fold(c.name) = app.fold(t.category)
  join units u on u.code = t.unit
  cross join (select words from bench_words where kind = 'brand') b
  cross join (select words from bench_words where kind = 'variant') v
 order by g.i;  -- ids in the order of i, so a type's rows spread over the whole table

-- opening stock through the ledger (its trigger sets products.stock); about 1 in 10 starts at zero
insert into stock_movements (product_id, kind, quantity, reason)
select p.id, 'opening',
       case when u.divisible then round(0.5 + ((hashint4(p.id::int + 77)::bigint + 2147483648) % 4000) / 100.0, 3)
            else 1 + (hashint4(p.id::int + 77)::bigint + 2147483648) % 60 end,
       'Stock inicial'
  from products p join units u on u.id = p.unit_id
 where p.sku ~ '-[0-9]{6}$' and p.track_stock and (hashint4(p.id::int)::bigint + 2147483648) % 10 <> 0;

commit;

vacuum (analyze) products;
vacuum (analyze) stock_movements;
analyze categories;
analyze units;
