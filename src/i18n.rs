//! Every word a user sees, in Spanish and English. Views ask `t(locale, key)`; a unit test fails
//! when a key used in the code has no entry here.

use std::collections::HashMap;
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
];

fn table() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static TABLE: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| TEXTS.iter().map(|(k, en, es)| (*k, (*en, *es))).collect())
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
        for (k, en, es) in TEXTS {
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

    fn used_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for marker in ["t(l, \"", "tf(l, \"", "t(locale, \"", "tf(locale, \"", "key: \""] {
            let mut rest = text;
            while let Some(i) = rest.find(marker) {
                rest = &rest[i + marker.len()..];
                if let Some(end) = rest.find('"') {
                    keys.push(rest[..end].to_string());
                }
            }
        }
        keys
    }
}
