//! Every word a user sees, in Spanish and English. Views ask `t(locale, key)`; a unit test fails
//! when a key used in the code has no entry here.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    Es,
    En,
}

impl Locale {
    pub fn code(self) -> &'static str {
        match self {
            Locale::Es => "es",
            Locale::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Locale> {
        match s.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("es") => Some(Locale::Es),
            Some("en") => Some(Locale::En),
            _ => None,
        }
    }

    /// The first supported language of an Accept-Language header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Locale::parse(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l)
    }
}

/// (key, English, Spanish)
const TEXTS: &[(&str, &str, &str)] = &[
    ("app.name", "Stock", "Stock"),
    ("nav.dashboard", "Dashboard", "Inicio"),
    ("nav.shops", "My shops", "Mis negocios"),
    ("nav.logout", "Log out", "Salir"),
    ("nav.login", "Log in", "Ingresar"),
    ("nav.signup", "Create a shop", "Crear un negocio"),
    ("nav.language", "Idioma: español", "Language: English"),
    ("role.owner", "Owner", "Dueño"),
    ("role.admin", "Administrator", "Administrador"),
    ("role.staff", "Staff", "Empleado"),
    ("login.title", "Log in", "Ingresar"),
    ("login.submit", "Log in", "Ingresar"),
    ("login.no_account", "New here? Create your shop", "¿Es nuevo? Cree su negocio"),
    ("login.failed", "Wrong e-mail or password.", "Correo o contraseña incorrectos."),
    (
        "login.throttled",
        "Too many failed attempts. Try again in {minutes} minutes.",
        "Demasiados intentos fallidos. Intente de nuevo en {minutes} minutos.",
    ),
    ("signup.title", "Create your shop", "Cree su negocio"),
    ("signup.submit", "Create shop", "Crear negocio"),
    ("signup.have_account", "Already have an account? Log in", "¿Ya tiene cuenta? Ingrese"),
    ("field.shop_name", "Shop name", "Nombre del negocio"),
    ("field.display_name", "Your name", "Su nombre"),
    ("field.email", "E-mail", "Correo electrónico"),
    ("field.password", "Password", "Contraseña"),
    ("field.password_confirm", "Repeat the password", "Repita la contraseña"),
    ("error.required", "This field is required.", "Este campo es obligatorio."),
    ("error.too_long", "This is too long.", "Es demasiado largo."),
    ("error.control_chars", "Remove the special characters.", "Quite los caracteres especiales."),
    ("error.email_invalid", "Enter a valid e-mail address.", "Ingrese un correo electrónico válido."),
    (
        "error.email_taken",
        "This e-mail already has an account: log in, then create the shop from \"My shops\".",
        "Este correo ya tiene una cuenta: ingrese y cree el negocio desde \"Mis negocios\".",
    ),
    ("error.password_short", "Use at least 8 characters.", "Use al menos 8 caracteres."),
    ("error.password_long", "Use at most 200 characters.", "Use como máximo 200 caracteres."),
    ("error.password_mismatch", "The passwords do not match.", "Las contraseñas no coinciden."),
    ("error.form_has_errors", "Please correct the marked fields.", "Corrija los campos marcados."),
    ("dashboard.title", "Dashboard", "Inicio"),
    ("dashboard.welcome", "Welcome, {name}.", "Hola, {name}."),
    ("dashboard.your_role", "Your role in this shop", "Su rol en este negocio"),
    ("dashboard.income", "Income today", "Ingresos de hoy"),
    ("dashboard.expenses", "Expenses today", "Egresos de hoy"),
    ("dashboard.balance", "Balance today", "Saldo de hoy"),
    ("dashboard.active_products", "Active products", "Productos activos"),
    ("dashboard.nothing_low", "Nothing below its minimum.", "Nada por debajo del mínimo."),
    ("dashboard.latest_sales", "Latest sales", "Últimas ventas"),
    ("dashboard.no_shop", "You do not belong to any shop yet.", "Todavía no pertenece a ningún negocio."),
    (
        "dashboard.suspended",
        "This shop is suspended. Contact the service's support.",
        "Este negocio está suspendido. Contacte al soporte del servicio.",
    ),
    ("shops.title", "My shops", "Mis negocios"),
    ("shops.current", "current", "actual"),
    ("shops.switch", "Switch", "Cambiar"),
    ("shops.new", "Open another shop", "Abrir otro negocio"),
    ("shops.create", "Create", "Crear"),
    ("flash.logged_out", "You have logged out.", "Cerró la sesión."),
    ("flash.welcome", "Your shop is ready.", "Su negocio está listo."),
    ("flash.switched", "Shop changed.", "Cambió de negocio."),
    ("error.403.title", "Not allowed", "No permitido"),
    (
        "error.403.body",
        "Your role cannot do this. Ask the shop's owner if you need it.",
        "Su rol no puede hacer esto. Pídaselo al dueño del negocio si lo necesita.",
    ),
    (
        "error.csrf.body",
        "The form had expired or did not come from this site. Go back, reload the page and try again.",
        "El formulario venció o no vino de este sitio. Vuelva atrás, recargue la página e intente de nuevo.",
    ),
    ("error.404.title", "Page not found", "Página no encontrada"),
    (
        "error.404.body",
        "There is nothing here, or it belongs to a shop you are not in.",
        "No hay nada aquí, o pertenece a un negocio del que no forma parte.",
    ),
    ("error.400.title", "The request could not be read", "No se pudo leer el pedido"),
    (
        "error.bad_form",
        "The form could not be read. Reload the page and try again.",
        "No se pudo leer el formulario. Recargue la página e intente de nuevo.",
    ),
    ("error.413.title", "Too much data", "Demasiados datos"),
    ("error.413.body", "What was sent is larger than allowed.", "Lo enviado supera el tamaño permitido."),
    ("error.500.title", "Something went wrong", "Algo salió mal"),
    (
        "error.500.body",
        "The problem was logged. Nothing was changed; please try again.",
        "El problema quedó registrado. No se cambió nada; intente de nuevo.",
    ),
    ("error.back_home", "Back to the start", "Volver al inicio"),
    ("nav.products", "Products", "Productos"),
    ("nav.pos", "Sell", "Vender"),
    ("nav.sales", "Sales", "Ventas"),
    ("nav.quotes", "Quotes", "Presupuestos"),
    ("nav.customers", "Customers", "Clientes"),
    ("nav.low_stock", "Low stock", "Stock bajo"),
    ("nav.stocktake", "Stocktake", "Inventario"),
    ("nav.categories", "Categories", "Categorías"),
    ("nav.units", "Units", "Unidades"),
    ("nav.missing", "Missing products", "Faltantes"),
    ("action.add", "Add", "Agregar"),
    ("action.cancel", "Cancel", "Cancelar"),
    ("action.delete", "Delete", "Eliminar"),
    ("action.edit", "Edit", "Editar"),
    ("action.rename", "Rename", "Renombrar"),
    ("action.save", "Save", "Guardar"),
    ("category.in_use", "Products use this category", "Hay productos en esta categoría"),
    ("category.new", "New category", "Nueva categoría"),
    ("unit.new", "New unit", "Nueva unidad"),
    ("error.barcode_invalid", "4 to 40 letters, digits or '-'.", "De 4 a 40 letras, dígitos o '-'."),
    ("error.barcode_taken", "Another product has this barcode.", "Otro producto tiene este código de barras."),
    ("error.category_in_use", "This category still has products: move them to another category first.", "Esta categoría todavía tiene productos: páselos a otra categoría primero."),
    ("error.unit_in_use", "Products use this unit: change them first.", "Hay productos con esta unidad: cámbielos primero."),
    ("error.choose_option", "Choose one of the options.", "Elija una de las opciones."),
    ("error.name_taken", "That name is already used.", "Ese nombre ya existe."),
    ("error.negative", "Must not be negative.", "No puede ser negativo."),
    ("error.nothing_counted", "Enter at least one counted quantity.", "Ingrese al menos una cantidad contada."),
    ("error.number_invalid", "Enter a number, like 1234,50.", "Ingrese un número, como 1234,50."),
    ("error.number_too_large", "This number is too large.", "Este número es demasiado grande."),
    ("error.too_many_decimals", "Too many decimals.", "Demasiados decimales."),
    ("error.whole_number", "This unit takes whole numbers only.", "Esta unidad solo admite números enteros."),
    ("error.product_has_history", "This product has stock movements and cannot be deleted: mark it inactive instead.", "Este producto tiene movimientos de stock y no se puede eliminar: márquelo como inactivo."),
    ("error.reason_required", "Say why (it is kept in the history).", "Indique el motivo (queda en el historial)."),
    ("error.sku_invalid", "Up to 40 letters, digits or . _ / -, starting with a letter or digit.", "Hasta 40 letras, dígitos o . _ / -, empezando por letra o dígito."),
    ("error.sku_taken", "Another product has this SKU.", "Otro producto tiene este código."),
    ("error.stock_negative", "Not enough stock: the shop does not allow negative stock.", "No hay stock suficiente: el negocio no permite stock negativo."),
    ("error.unit_code_invalid", "Up to 10 lowercase letters or digits.", "Hasta 10 letras minúsculas o dígitos."),
    ("error.unit_has_fractions", "Some products in this unit have fractional stock.", "Hay productos de esta unidad con stock fraccionario."),
    ("error.untracked", "This product does not track stock.", "Este producto no controla stock."),
    ("error.value_out_of_range", "A value is out of range.", "Un valor está fuera de rango."),
    ("field.active", "Active (offered for sale)", "Activo (a la venta)"),
    ("field.adjust_quantity", "Quantity to add (negative to remove)", "Cantidad a sumar (negativa para restar)"),
    ("field.barcode", "Barcode", "Código de barras"),
    ("field.category", "Category", "Categoría"),
    ("field.cost", "Cost", "Costo"),
    ("field.counted", "Counted", "Contado"),
    ("field.description", "Description", "Descripción"),
    ("field.divisible", "Fractions allowed (kg, l, m)", "Admite fracciones (kg, l, m)"),
    ("field.kind", "Kind", "Tipo"),
    ("field.min_stock", "Minimum stock", "Stock mínimo"),
    ("field.name", "Name", "Nombre"),
    ("field.no_category", "(no category)", "(sin categoría)"),
    ("field.note", "Note", "Nota"),
    ("field.opening_stock", "Opening stock", "Stock inicial"),
    ("field.price", "Sale price", "Precio de venta"),
    ("field.products", "Products", "Productos"),
    ("field.quantity", "Quantity", "Cantidad"),
    ("field.reason", "Reason", "Motivo"),
    ("field.sku", "SKU", "Código"),
    ("field.sort", "Sort by", "Ordenar por"),
    ("field.status", "Status", "Estado"),
    ("field.stock", "Stock", "Stock"),
    ("field.stock_after", "Stock after", "Stock resultante"),
    ("field.track_stock", "Track stock (off for services)", "Controlar stock (no, para servicios)"),
    ("field.unit", "Unit", "Unidad"),
    ("field.unit_code", "Code", "Código"),
    ("field.when", "When", "Cuándo"),
    ("field.who", "Who", "Quién"),
    ("filter.active", "Active", "Activos"),
    ("filter.all", "All", "Todos"),
    ("filter.all_categories", "All categories", "Todas las categorías"),
    ("filter.apply", "Search", "Buscar"),
    ("filter.inactive", "Inactive", "Inactivo"),
    ("filter.low_stock", "Only low stock", "Solo stock bajo"),
    ("filter.search", "Name, SKU or barcode", "Nombre, código o código de barras"),
    ("filter.search_hint", "e.g. yerba", "p. ej. yerba"),
    ("flash.deleted", "Deleted.", "Eliminado."),
    ("flash.missing_noted", "Noted.", "Anotado."),
    ("flash.saved", "Saved.", "Guardado."),
    ("flash.stock_adjusted", "Stock adjusted.", "Stock ajustado."),
    ("flash.stocktake_posted", "Stocktake posted: differences recorded as movements.", "Inventario registrado: las diferencias quedaron como movimientos."),
    ("missing.hint", "Note what customers ask for and the shop does not carry; repeated requests are counted.", "Anote lo que piden los clientes y el negocio no tiene; los pedidos repetidos se cuentan."),
    ("missing.last", "Last asked", "Último pedido"),
    ("missing.none", "Nothing noted yet.", "Todavía no hay nada anotado."),
    ("missing.note", "Note it", "Anotar"),
    ("missing.requests", "Requests", "Pedidos"),
    ("missing.what", "What was asked for", "Qué pidieron"),
    ("movement.adjustment", "Adjustment", "Ajuste"),
    ("movement.import", "Import", "Importación"),
    ("movement.opening", "Opening stock", "Stock inicial"),
    ("movement.other", "Other", "Otro"),
    ("movement.purchase", "Purchase", "Compra"),
    ("movement.return", "Return", "Devolución"),
    ("movement.sale", "Sale", "Venta"),
    ("movement.stocktake", "Stocktake", "Inventario"),
    ("movement.void", "Voided sale", "Venta anulada"),
    ("pager.label", "Pages", "Páginas"),
    ("pager.next", "Next", "Siguiente"),
    ("pager.prev", "Previous", "Anterior"),
    ("product.delete", "Delete product", "Eliminar producto"),
    ("product.delete_hint", "Only possible while it has no stock movements.", "Solo es posible mientras no tenga movimientos de stock."),
    ("product.edit", "Edit product", "Editar producto"),
    ("product.export", "Export CSV", "Exportar CSV"),
    ("product.new", "New product", "Nuevo producto"),
    ("product.none_found", "No products match.", "No hay productos que coincidan."),
    ("product.untracked", "Not stock-tracked", "Sin control de stock"),
    ("sort.name", "Name", "Nombre"),
    ("sort.newest", "Newest first", "Más nuevos"),
    ("sort.price_asc", "Price, lowest first", "Precio, menor primero"),
    ("sort.price_desc", "Price, highest first", "Precio, mayor primero"),
    ("sort.sku", "SKU", "Código"),
    ("sort.stock", "Stock against minimum", "Stock frente al mínimo"),
    ("stock.adjust", "Adjust stock", "Ajustar stock"),
    ("stock.history", "Stock movements", "Movimientos de stock"),
    ("stock.no_movements", "No movements yet.", "Todavía no hay movimientos."),
    ("stocktake.hint", "Enter what you counted; leave blank what you did not count. The differences are posted as movements.", "Ingrese lo que contó; deje en blanco lo que no contó. Las diferencias se registran como movimientos."),
    ("stocktake.post", "Post stocktake", "Registrar inventario"),
    ("flash.imported", "Import applied.", "Importación aplicada."),
    ("error.csv_not_utf8", "The file is not UTF-8 text. Save it as \"CSV UTF-8\" and try again.", "El archivo no es texto UTF-8. Guárdelo como \"CSV UTF-8\" e intente de nuevo."),
    ("error.csv_empty", "The file has no rows.", "El archivo no tiene filas."),
    ("error.csv_no_file", "Choose a CSV file.", "Elija un archivo CSV."),
    ("error.csv_missing_columns", "Missing columns: {columns}.", "Faltan columnas: {columns}."),
    ("error.csv_unknown_columns", "Unknown columns: {columns}. Use the column names of the export.", "Columnas desconocidas: {columns}. Use los nombres de columna de la exportación."),
    ("error.csv_duplicate_columns", "Repeated columns: {columns}.", "Columnas repetidas: {columns}."),
    ("error.csv_too_many_rows", "The file has more than {max} rows: split it.", "El archivo tiene más de {max} filas: divídalo."),
    ("error.csv_malformed", "The file is not valid CSV near line {line}: check quotes and the number of columns.", "El archivo no es un CSV válido cerca de la línea {line}: revise comillas y cantidad de columnas."),
    ("error.csv_changed", "This import can no longer be read; upload the file again.", "Esta importación ya no se puede leer; suba el archivo de nuevo."),
    ("error.sku_duplicated_in_file", "This SKU appears more than once in the file.", "Este código aparece más de una vez en el archivo."),
    ("error.barcode_duplicated_in_file", "This barcode appears more than once in the file.", "Este código de barras aparece más de una vez en el archivo."),
    ("error.unit_unknown", "Unknown unit code.", "Código de unidad desconocido."),
    ("error.yes_or_no", "Write yes or no.", "Escriba yes o no."),
    ("import.title", "Import products from CSV", "Importar productos desde CSV"),
    ("import.file", "CSV file", "Archivo CSV"),
    ("import.check", "Check the file", "Revisar el archivo"),
    ("import.format", "Format", "Formato"),
    ("import.format_hint", "One product per row, first row with column names. sku, name and price are required. Rows match existing products by SKU. Separated by commas (decimals with a dot) or by semicolons (decimals with a comma). The stock of new products is posted as an import movement; the stock of existing products is not changed (use a stocktake).", "Un producto por fila, la primera fila con los nombres de columna. sku, name y price son obligatorias. Las filas se asocian a productos existentes por código (sku). Separado por comas (decimales con punto) o por punto y coma (decimales con coma). El stock de los productos nuevos se registra como movimiento de importación; el de los existentes no se cambia (use un inventario)."),
    ("import.export_link", "Download the current catalog as CSV", "Descargar el catálogo actual en CSV"),
    ("import.preview", "Import preview", "Vista previa de la importación"),
    ("import.rows", "Rows", "Filas"),
    ("import.new", "New products", "Productos nuevos"),
    ("import.updated", "Products updated", "Productos actualizados"),
    ("import.unchanged", "Products unchanged", "Productos sin cambios"),
    ("import.new_categories", "New categories", "Categorías nuevas"),
    ("import.errors", "Errors", "Errores"),
    ("import.stock_kept", "{count} existing products have a different stock in the file: their stock is kept (use a stocktake to correct it).", "{count} productos existentes tienen otro stock en el archivo: se mantiene su stock (use un inventario para corregirlo)."),
    ("import.already_applied", "This file was already imported.", "Este archivo ya fue importado."),
    ("import.nothing_changed_yet", "Nothing has been changed yet.", "Todavía no se cambió nada."),
    ("import.apply", "Import now", "Importar ahora"),
    ("import.fix_and_retry", "Fix these rows in the file and upload it again. Nothing was changed.", "Corrija estas filas en el archivo y súbalo de nuevo. No se cambió nada."),
    ("import.line", "Line", "Línea"),
    ("import.column", "Column", "Columna"),
    ("import.problem", "Problem", "Problema"),
    ("import.more_errors", "… and {count} more.", "… y {count} más."),
    ("import.another", "Upload another file", "Subir otro archivo"),
    ("import.reason", "CSV import", "Importación CSV"),
    ("image.title", "Image", "Imagen"),
    ("image.choose", "JPEG, PNG or WebP, up to 5 MB", "JPEG, PNG o WebP, hasta 5 MB"),
    ("image.upload", "Upload image", "Subir imagen"),
    ("image.remove", "Remove image", "Quitar imagen"),
    ("error.image_type", "Only JPEG, PNG or WebP images are accepted.", "Solo se aceptan imágenes JPEG, PNG o WebP."),
    ("error.image_too_big", "The image has too many pixels (at most 8000 × 8000).", "La imagen tiene demasiados píxeles (máximo 8000 × 8000)."),
    ("error.image_corrupt", "The image could not be read: it may be damaged.", "No se pudo leer la imagen: puede estar dañada."),
    ("error.image_missing", "Choose an image file.", "Elija un archivo de imagen."),
    // rules kept by the database (sql/app/V20__database_rules.sql)
    ("purchase.error_supplier_inactive", "This supplier is deactivated: reactivate it to record a new invoice.", "Este proveedor está desactivado: reactívelo para cargar una factura nueva."),
    ("pos.whole_units", "{product} is sold in whole units only: change its quantity.", "{product} se vende solo por unidades enteras: cambie la cantidad."),
    ("purchase.error_product_inactive", "This product is inactive: reactivate it to add it to an invoice.", "Este producto está inactivo: reactívelo para agregarlo a una factura."),
];

/// Every module's texts: this file's, plus the tables kept beside their views.
const ALL_TEXTS: &[&[(&str, &str, &str)]] = &[
    TEXTS,
    crate::views::sales::TEXTS,
    crate::views::customers::TEXTS,
    crate::views::quotes::TEXTS,
    crate::views::reports::TEXTS,
    crate::views::invitations::TEXTS,
    crate::views::password::TEXTS,
    crate::views::members::TEXTS,
    crate::views::settings::TEXTS,
    crate::views::audit::TEXTS,
    crate::views::suppliers::TEXTS,
    crate::views::purchases::TEXTS,
    crate::views::money::TEXTS,
    crate::domain::limits::TEXTS,
    crate::views::admin::TEXTS,
];

/// FNV-1a: the keys are our own short constants, so the lookup needs no protection against
/// chosen collisions, and SipHash was a measurable share of rendering a page (issue 8).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Table = HashMap<&'static str, (&'static str, &'static str), BuildHasherDefault<Fnv>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE
        .get_or_init(|| ALL_TEXTS.iter().flat_map(|t| t.iter()).map(|(k, en, es)| (*k, (*en, *es))).collect())
}

/// The text for `key`; the key itself when missing (a test keeps that from shipping).
pub fn t(locale: Locale, key: &'static str) -> &'static str {
    match table().get(key) {
        Some((en, es)) => match locale {
            Locale::En => en,
            Locale::Es => es,
        },
        None => key,
    }
}

/// `t` for a key known only at run time (an error key carried in a list); unknown keys are shown
/// as they are, so a missing translation is visible rather than silent.
pub fn t_dyn(locale: Locale, key: &str) -> &str {
    match table().get(key) {
        Some((en, es)) => match locale {
            Locale::En => en,
            Locale::Es => es,
        },
        None => key,
    }
}

/// `t` with `{name}` placeholders filled in.
pub fn tf(locale: Locale, key: &'static str, args: &[(&str, &str)]) -> String {
    let mut s = t(locale, key).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(Locale::from_accept_language("es-AR,es;q=0.9,en;q=0.8"), Some(Locale::Es));
        assert_eq!(Locale::from_accept_language("fr;q=1, en;q=0.5, es;q=0.4"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language("de"), None);
    }

    #[test]
    fn keys_are_unique_and_translated() {
        let mut seen = std::collections::HashSet::new();
        for (k, en, es) in ALL_TEXTS.iter().flat_map(|t| t.iter()) {
            assert!(seen.insert(k), "duplicate key {k}");
            assert!(!en.is_empty() && !es.is_empty(), "empty text for {k}");
        }
    }

    /// Every literal key passed to t()/tf() anywhere in src/ exists in the table.
    #[test]
    fn every_used_key_exists() {
        let mut missing = Vec::new();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut stack = vec![std::path::PathBuf::from(root)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read file");
                for key in used_keys(&text) {
                    if !table().contains_key(key.as_str()) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "missing translations: {missing:#?}");
    }

    /// Every string literal shaped like a key of a known family ("error.sku_taken", "nav.units").
    fn used_keys(text: &str) -> Vec<String> {
        const FAMILIES: &[&str] = &[
            "nav.",
            "role.",
            "login.",
            "signup.",
            "field.",
            "error.",
            "dashboard.",
            "shops.",
            "flash.",
            "product.",
            "movement.",
            "sort.",
            "filter.",
            "pager.",
            "action.",
            "stock.",
            "category.",
            "unit.",
            "stocktake.",
            "missing.",
            "member.",
            "settings.",
            "audit.",
            "supplier.",
            "purchase.",
        ];
        let mut keys = Vec::new();
        for (i, chunk) in text.split('"').enumerate() {
            let is_literal = i % 2 == 1;
            let shaped = chunk.len() > 3
                && chunk
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
                && !chunk.ends_with('.')
                && FAMILIES.iter().any(|f| chunk.starts_with(f) && chunk.len() > f.len());
            if is_literal && shaped {
                keys.push(chunk.to_string());
            }
        }
        keys
    }
}
