//! Per-field validation problems, shared by HTML forms (re-rendered with the
//! messages beside the fields) and JSON errors (`details`).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Trimmed text of 1 to `max` characters without control characters: the
/// rule for names, codes and labels everywhere.
pub fn text(raw: &str, max: usize) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(format!(
            "must be 1 to {max} characters, without control characters"
        ));
    }
    Ok(t.to_string())
}

/// `s` with its first letter in upper case, for messages built from parts.
pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl FieldError {
    /// The field as people read it in an error summary ("Repeated password").
    pub fn label(&self) -> String {
        let label = match self.field.as_str() {
            "confirm" => "Repeated password",
            "display_name" => "Name",
            "user_id" => "User",
            "current_password" => "Current password",
            "new_password" => "New password",
            "gtin" | "pack_gtin" => "Barcode",
            "hibcc" => "HIBCC code",
            // The supplier page's catalogue-line form.
            "supplier_code" => "Their code",
            "pack_size" => "Units per pack",
            "price" => "Price per pack",
            // The supplier page's sending form and the supplier's confirmation.
            "email_to" => "Send to",
            "email_cc" => "Copy to",
            "url" => "Address",
            "secret" => "Signing secret",
            "sender_id" => "Our id",
            "sender_qualifier" => "Our id qualifier",
            "receiver_id" => "Their id",
            "receiver_qualifier" => "Their id qualifier",
            "inbox" => "Inbox folder",
            "edi_email_to" => "Email the files to",
            "expected_on" => "Expected delivery date",
            "expired_use_reason" => "A reason",
            "supplier_reference" => "Your order reference",
            other if other.starts_with("cat-name-") => "Category name",
            other => other,
        };
        capitalised(&label.replace('_', " "))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl ToString) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.to_string(),
        });
    }

    /// A refusal as the problem of the field it names (the form's own, `""`,
    /// when it names none), for a form that shows it beside that field.
    pub fn from_refusal(r: crate::domain::refusal::Refusal) -> Self {
        FieldErrors::single(r.field.as_deref().unwrap_or(""), r.message)
    }

    pub fn single(field: &str, message: impl ToString) -> Self {
        let mut e = FieldErrors::default();
        e.add(field, message);
        e
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for one field, for templates.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Records the error of `result` under `field` and returns its value.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }

    /// The same errors with `from` reported as `to` (where a form shows
    /// one field for what the catalog checks as two).
    pub fn renamed(mut self, from: &str, to: &str) -> Self {
        for e in self.0.iter_mut().filter(|e| e.field == from) {
            e.field = to.to_string();
        }
        self
    }

    /// `Ok(())` when empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// A service error that may carry per-field problems, so that a form's own
/// parse errors can be reported together with the service's.
pub trait FormError: Sized {
    /// The field problems, or the error itself when it is of another kind.
    fn into_field_errors(self) -> Result<FieldErrors, Self>;
    fn from_field_errors(errors: FieldErrors) -> Self;
}

/// The result of a service call together with the problems a form found
/// before it (fields that did not even parse): every problem is reported at
/// once (the form's first, one per field), and anything the call wrote is
/// rolled back with the error. Errors of another kind pass unchanged.
pub fn with_form_errors<T, E: FormError>(form: FieldErrors, result: Result<T, E>) -> Result<T, E> {
    match result {
        Err(e) => match e.into_field_errors() {
            Ok(service) => {
                let mut all = form;
                for f in service.0 {
                    if all.get(&f.field).is_none() {
                        all.0.push(f);
                    }
                }
                Err(E::from_field_errors(all))
            }
            Err(other) => Err(other),
        },
        Ok(_) if !form.is_empty() => Err(E::from_field_errors(form)),
        ok => ok,
    }
}
