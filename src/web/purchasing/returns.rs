//! Purchasing pages beside the orders themselves: the practice's details
//! and approval rules, returns to suppliers, and the credits suppliers owe.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::categories::{self, Category};
use crate::catalog::locations::{self, Location};
use crate::catalog::suppliers::{self, Supplier};
use crate::catalog::{CatalogError, items};
use crate::db::DbError;
use crate::domain::{Permission, Timestamp};
use crate::orders::returns::{
    self, Credit, CreditInput, CreditReceived, ReturnInput, ReturnLineInput, SupplierReturn,
};
use crate::orders::rules::{self, ApprovalRule, RuleInput};
use crate::orders::{self, OrdersError, Who};
use crate::practice::{self, Practice};
use crate::validation::with_form_errors;
use crate::validation::{FieldErrors, capitalised};
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::ActiveForm;
use crate::web::forms::money;
use crate::web::render::{Layout, redirect_with_flash, render, render_status};
use crate::web::suppliers::show::parse_price;

/// Empty line rows the return form offers (more when more were sent).
const RETURN_ROWS: usize = 5;
/// The most line rows a return form may carry.
const MAX_RETURN_ROWS: usize = 50;
const AMOUNT_HINT: &str = "must be an amount such as 12.50 or 12,50";

/// One problem with a form, named as the form labels the field.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The id of the input it belongs to (the summary links to it).
    pub field: String,
    pub label: String,
    pub message: String,
}

/// A form's problems, for the summary above it and the message beside each
/// field.
#[derive(Debug, Clone, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    fn from_errors(errors: FieldErrors, name: impl Fn(&str) -> (String, String)) -> Problems {
        let mut out: Vec<Problem> = Vec::new();
        for e in errors.0 {
            let (field, label) = name(&e.field);
            if out.iter().any(|p| p.field == field) {
                continue;
            }
            out.push(Problem {
                field,
                label,
                message: e.message,
            });
        }
        Problems(out)
    }

    pub fn get(&self, field: impl AsRef<str>) -> Option<&str> {
        self.0
            .iter()
            .find(|p| p.field == field.as_ref())
            .map(|p| p.message.as_str())
    }

    pub fn problem(&self, field: impl AsRef<str>) -> Option<&Problem> {
        self.0.iter().find(|p| p.field == field.as_ref())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// ` aria-invalid="true" aria-describedby="<field>-error"` for a field
    /// with a problem. Field ids are fixed identifiers.
    pub fn aria(&self, field: impl AsRef<str>) -> String {
        let field = field.as_ref();
        if self.get(field).is_some() {
            format!(r#" aria-invalid="true" aria-describedby="{field}-error""#)
        } else {
            String::new()
        }
    }
}

/// Labels from a fixed table; unknown fields read as themselves.
fn labelled(
    table: &'static [(&'static str, &'static str, &'static str)],
) -> impl Fn(&str) -> (String, String) {
    move |f: &str| {
        table
            .iter()
            .find(|(from, _, _)| *from == f)
            .map(|(_, to, label)| (to.to_string(), label.to_string()))
            .unwrap_or_else(|| (f.to_string(), capitalised(&f.replace('_', " "))))
    }
}

fn when(at: &str) -> String {
    Timestamp::parse(at).map_or_else(|_| at.to_string(), Timestamp::human)
}

/// `""` → none; a number → that id; anything else → none.
fn parse_id(raw: &str) -> Option<i64> {
    raw.trim().parse().ok()
}

// ---------------------------------------------------------------------
// Practice details and approval rules
// ---------------------------------------------------------------------

const PRACTICE_FIELDS: &[(&str, &str, &str)] = &[
    ("name", "name", "Practice name"),
    ("address", "address", "Address"),
    ("phone", "phone", "Phone"),
    ("email", "email", "E-mail"),
];

const RULE_FIELDS: &[(&str, &str, &str)] = &[
    ("kind", "kind", "Rule"),
    ("amount_minor", "amount", "Order total above"),
    ("amount", "amount", "Order total above"),
    ("category_id", "category_id", "Category"),
    ("role", "role", "Approved by"),
];

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PracticeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    role: String,
}

impl Default for RuleForm {
    fn default() -> Self {
        RuleForm {
            kind: "amount_over".into(),
            amount: String::new(),
            category_id: String::new(),
            role: "manager".into(),
        }
    }
}

struct RuleRow {
    rule: ApprovalRule,
}

impl RuleRow {
    fn role_label(&self) -> &'static str {
        self.rule.role.label()
    }
}

#[derive(Template)]
#[template(path = "purchasing/practice.html")]
struct PracticePage {
    layout: Layout,
    form: PracticeForm,
    errors: Problems,
    rules: Vec<RuleRow>,
    categories: Vec<Category>,
    rule_form: RuleForm,
    rule_errors: Problems,
    currency: String,
}
crate::page!(PracticePage);

async fn practice_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    form: Option<PracticeForm>,
    errors: Problems,
    rule_form: RuleForm,
    rule_errors: Problems,
) -> Result<HttpResponse, AppError> {
    let currency = ctx.state.config.practice.currency.clone();
    let cur = currency.clone();
    let (stored, rules, categories) = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>((
                practice::practice(c)?,
                rules::list(c, &cur)?,
                categories::list(c)?,
            ))
        })
        .await?;
    let form = form.unwrap_or(PracticeForm {
        name: stored.name,
        address: stored.address,
        phone: stored.phone,
        email: stored.email,
    });
    render_status(
        status,
        &PracticePage {
            layout: Layout::for_request(req, "Practice"),
            form,
            errors,
            rules: rules.into_iter().map(|rule| RuleRow { rule }).collect(),
            categories: categories.into_iter().filter(|c| c.active).collect(),
            rule_form,
            rule_errors,
            currency,
        },
    )
}

pub async fn practice(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    practice_page(
        &req,
        &ctx,
        StatusCode::OK,
        None,
        Problems::default(),
        RuleForm::default(),
        Problems::default(),
    )
    .await
}

pub async fn save_practice(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<PracticeForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let input = Practice {
        name: form.name.clone(),
        address: form.address.clone(),
        phone: form.phone.clone(),
        email: form.email.clone(),
    };
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| practice::set_practice(tx, &a, &input))
        .await;
    match outcome {
        Ok(p) => Ok(redirect_with_flash(
            "/admin/practice",
            "success",
            &format!("Saved the details of {}.", p.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            practice_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(form),
                Problems::from_errors(e, labelled(PRACTICE_FIELDS)),
                RuleForm::default(),
                Problems::default(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create_rule(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<RuleForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let mut errors = FieldErrors::default();
    let kind = form.kind.trim().to_string();
    let (amount_minor, category_id) = match kind.as_str() {
        "amount_over" => (
            errors.check("amount", parse_price(&form.amount).ok_or(AMOUNT_HINT)),
            None,
        ),
        "category" => (
            None,
            errors.check(
                "category_id",
                parse_id(&form.category_id).ok_or("choose a category"),
            ),
        ),
        _ => (None, None),
    };
    let input = RuleInput {
        kind,
        amount_minor,
        category_id,
        role: form.role.trim().to_string(),
    };
    let (a, currency) = (ctx.audit(), ctx.state.config.practice.currency.clone());
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let created = rules::create(tx, &a, &currency, &input);
            match created {
                Ok(r) if errors.is_empty() => Ok(r),
                Ok(_) => Err(OrdersError::Invalid(errors)),
                Err(OrdersError::Invalid(e)) => {
                    // Ours first: the service cannot see what did not parse.
                    for x in e.0 {
                        let ours = if x.field == "amount_minor" {
                            "amount"
                        } else {
                            x.field.as_str()
                        };
                        if errors.get(ours).is_none() {
                            errors.0.push(x);
                        }
                    }
                    Err(OrdersError::Invalid(errors))
                }
                Err(e) => Err(e),
            }
        })
        .await;
    match outcome {
        Ok(rule) => Ok(redirect_with_flash(
            "/admin/practice",
            "success",
            &format!("Added the rule: {}.", rule.describe),
        )),
        Err(OrdersError::Invalid(e)) => {
            practice_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Problems::default(),
                form,
                Problems::from_errors(e, labelled(RULE_FIELDS)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn set_rule_active(
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<ActiveForm>,
) -> Result<HttpResponse, AppError> {
    let (id, active, a) = (id.into_inner(), f.is_active(), ctx.audit());
    let currency = ctx.state.config.practice.currency.clone();
    let rule = ctx
        .state
        .db
        .write(move |tx| rules::set_active(tx, &a, &currency, id, active))
        .await?;
    let verb = if active {
        "Switched on"
    } else {
        "Switched off"
    };
    Ok(redirect_with_flash(
        "/admin/practice",
        "success",
        &format!("{verb} the rule: {}.", rule.describe),
    ))
}

// ---------------------------------------------------------------------
// Returns
// ---------------------------------------------------------------------

/// `?supplier_id=` as a select sends it: empty for all.
#[derive(Debug, Default, Deserialize)]
pub struct SupplierFilter {
    #[serde(default)]
    supplier_id: String,
    /// Credits: `1` for open ones only.
    #[serde(default)]
    open: String,
}

/// A credit as shown, with its amounts formatted.
pub struct CreditRow {
    pub c: Credit,
    pub expected: String,
    pub received: String,
    pub created: String,
}

impl CreditRow {
    pub fn new(c: Credit) -> CreditRow {
        CreditRow {
            expected: money(c.expected_minor),
            received: c.received_minor.map(money).unwrap_or_default(),
            created: when(&c.created_at),
            c,
        }
    }
}

/// What suppliers owe in open credits, one line per supplier.
pub struct OpenTotal {
    supplier_id: i64,
    supplier_name: String,
    count: usize,
    total: String,
}

fn open_totals(credits: &[Credit]) -> Vec<OpenTotal> {
    let mut sums: Vec<(i64, String, usize, i64)> = Vec::new();
    for c in credits.iter().filter(|c| c.open()) {
        match sums.iter_mut().find(|s| s.0 == c.supplier_id) {
            Some(s) => {
                s.2 += 1;
                s.3 += c.expected_minor;
            }
            None => sums.push((c.supplier_id, c.supplier_name.clone(), 1, c.expected_minor)),
        }
    }
    sums.sort_by_key(|s| s.1.to_lowercase());
    sums.into_iter()
        .map(|(supplier_id, supplier_name, count, total)| OpenTotal {
            supplier_id,
            supplier_name,
            count,
            total: money(total),
        })
        .collect()
}

struct ReturnRow {
    r: SupplierReturn,
    at: String,
    units: i64,
}

#[derive(Template)]
#[template(path = "purchasing/returns.html")]
struct ReturnsPage {
    layout: Layout,
    returns: Vec<ReturnRow>,
    credits: Vec<CreditRow>,
    totals: Vec<OpenTotal>,
    suppliers: Vec<Supplier>,
    supplier_id: Option<i64>,
    currency: String,
    can_manage: bool,
}
crate::page!(ReturnsPage);

pub async fn list_returns(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<SupplierFilter>,
) -> Result<HttpResponse, AppError> {
    let can_manage = ctx.user()?.role.may(Permission::ManageOrders);
    let supplier_id = parse_id(&q.supplier_id);
    let (list, credits, suppliers) = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>((
                returns::returns(c, supplier_id)?,
                returns::credits(c, supplier_id, true)?,
                suppliers::list(c)?,
            ))
        })
        .await?;
    render(&ReturnsPage {
        layout: Layout::for_request(&req, "Returns"),
        returns: list
            .into_iter()
            .map(|r| ReturnRow {
                at: when(&r.at),
                units: r.lines.iter().map(|l| l.quantity).sum(),
                r,
            })
            .collect(),
        totals: open_totals(&credits),
        credits: credits.into_iter().map(CreditRow::new).collect(),
        suppliers,
        supplier_id,
        currency: ctx.state.config.practice.currency.clone(),
        can_manage,
    })
}

/// One line row of the return form as typed.
#[derive(Debug, Clone, Default)]
pub struct LineRow {
    item: String,
    location_id: String,
    lot: String,
    expiry: String,
    quantity: String,
}

impl LineRow {
    fn is_empty(&self) -> bool {
        [
            &self.item,
            &self.location_id,
            &self.lot,
            &self.expiry,
            &self.quantity,
        ]
        .iter()
        .all(|v| v.trim().is_empty())
    }
}

/// The return form as typed: its fields, and line rows named `item_0`,
/// `location_0`, `lot_0`, `expiry_0`, `quantity_0`, `item_1`, ...
#[derive(Debug, Clone, Default)]
pub struct ReturnForm {
    supplier_id: String,
    order_number: String,
    reason: String,
    note: String,
    expected_credit: String,
    lines: Vec<LineRow>,
}

impl ReturnForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> ReturnForm {
        let mut f = ReturnForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "supplier_id" => f.supplier_id = v,
                "order_number" => f.order_number = v,
                "reason" => f.reason = v,
                "note" => f.note = v,
                "expected_credit" => f.expected_credit = v,
                _ => {
                    let Some((name, n)) = k.rsplit_once('_') else {
                        continue;
                    };
                    let Ok(n) = n.parse::<usize>() else { continue };
                    if n >= MAX_RETURN_ROWS {
                        continue;
                    }
                    if f.lines.len() <= n {
                        f.lines.resize(n + 1, LineRow::default());
                    }
                    let row = &mut f.lines[n];
                    match name {
                        "item" => row.item = v,
                        "location" => row.location_id = v,
                        "lot" => row.lot = v,
                        "expiry" => row.expiry = v,
                        "quantity" => row.quantity = v,
                        _ => {}
                    }
                }
            }
        }
        f.padded()
    }

    /// At least [`RETURN_ROWS`] rows, and one empty row after those used.
    fn padded(mut self) -> ReturnForm {
        while self.lines.last().is_some_and(LineRow::is_empty) && self.lines.len() > RETURN_ROWS {
            self.lines.pop();
        }
        let want = RETURN_ROWS.max(self.lines.len() + 1).min(MAX_RETURN_ROWS);
        self.lines.resize(want, LineRow::default());
        self
    }
}

/// Names a return's problem as the form shows it: `lines[k].quantity` of
/// the k-th sent line is `quantity_<row>`, labelled "Line <row+1> quantity".
fn return_field(rows: &[usize], field: &str) -> (String, String) {
    if let Some(rest) = field.strip_prefix("lines[")
        && let Some((k, name)) = rest.split_once("].")
        && let Ok(k) = k.parse::<usize>()
    {
        let row = rows.get(k).copied().unwrap_or(k);
        return line_field(row, name);
    }
    if is_line_field(field)
        && let Some((name, n)) = field.rsplit_once('_')
        && let Ok(row) = n.parse::<usize>()
    {
        return line_field(row, name);
    }
    let (to, label) = match field {
        "supplier_id" => ("supplier_id", "Supplier"),
        "order_id" | "order_number" => ("order_number", "Order number"),
        "reason" => ("reason", "Reason"),
        "note" => ("note", "Note"),
        "expected_credit_minor" | "expected_credit" => ("expected_credit", "Expected credit"),
        "lines" => ("item_0", "Items"),
        other => (other, other),
    };
    (to.to_string(), capitalised(label))
}

/// `item_3`, `quantity_0`: a field of one of the form's line rows.
fn is_line_field(field: &str) -> bool {
    field.rsplit_once('_').is_some_and(|(name, n)| {
        n.parse::<usize>().is_ok()
            && ["item", "location", "lot", "expiry", "quantity"].contains(&name)
    })
}

fn line_field(row: usize, name: &str) -> (String, String) {
    let (id, label) = match name {
        "item" | "item_id" => ("item", "item code"),
        "location" | "location_id" => ("location", "location"),
        "lot" => ("lot", "lot"),
        "expiry" => ("expiry", "expiry"),
        "quantity" => ("quantity", "quantity"),
        other => (other, other),
    };
    (format!("{id}_{row}"), format!("Line {} {label}", row + 1))
}

#[derive(Template)]
#[template(path = "purchasing/return_form.html")]
struct ReturnFormPage {
    layout: Layout,
    form: ReturnForm,
    suppliers: Vec<Supplier>,
    locations: Vec<(Location, String)>,
    errors: Problems,
    /// A refusal that is about the stock, not a field.
    refusal: Option<String>,
    currency: String,
}
crate::page!(ReturnFormPage);

impl ReturnFormPage {
    fn line_field(&self, name: &str, row: impl std::borrow::Borrow<usize>) -> String {
        format!("{name}_{}", row.borrow())
    }
}

async fn return_form_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    form: ReturnForm,
    errors: Problems,
    refusal: Option<String>,
) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    let (suppliers, locations) = ctx
        .state
        .db
        .read(move |c| {
            let locs = locations::list_accessible_with_paths(c, user.id, user.role)?
                .into_iter()
                .filter(|(l, _)| l.active)
                .collect::<Vec<_>>();
            Ok::<_, DbError>((suppliers::list(c)?, locs))
        })
        .await?;
    render_status(
        status,
        &ReturnFormPage {
            layout: Layout::for_request(req, "Return goods"),
            form,
            suppliers,
            locations,
            errors,
            refusal,
            currency: ctx.state.config.practice.currency.clone(),
        },
    )
}

pub async fn new_return(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<SupplierFilter>,
) -> Result<HttpResponse, AppError> {
    let form = ReturnForm {
        supplier_id: q.supplier_id.trim().to_string(),
        ..ReturnForm::default()
    }
    .padded();
    return_form_page(&req, &ctx, StatusCode::OK, form, Problems::default(), None).await
}

pub async fn create_return(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = ReturnForm::from_pairs(f.into_inner());
    let mut errors = FieldErrors::default();
    let supplier_id = match parse_id(&form.supplier_id) {
        Some(id) => id,
        None => {
            errors.add("supplier_id", "choose the supplier");
            0
        }
    };
    let expected_credit_minor = match form.expected_credit.trim() {
        "" => None,
        t => errors.check("expected_credit", parse_price(t).ok_or(AMOUNT_HINT)),
    };
    // Parsed lines (with the form row each came from); item codes are
    // looked up in the transaction.
    let mut lines: Vec<(usize, String, ReturnLineInput)> = Vec::new();
    for (row, l) in form.lines.iter().enumerate() {
        if l.is_empty() {
            continue;
        }
        if l.item.trim().is_empty() {
            errors.add(&format!("item_{row}"), "is required: the item's code");
        }
        let location_id = match parse_id(&l.location_id) {
            Some(id) => id,
            None => {
                errors.add(&format!("location_{row}"), "choose a location");
                0
            }
        };
        let quantity = errors
            .check(
                &format!("quantity_{row}"),
                l.quantity
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| "must be a whole number of at least 1"),
            )
            .unwrap_or(0);
        lines.push((
            row,
            l.item.trim().to_string(),
            ReturnLineInput {
                item_id: 0,
                location_id,
                lot: l.lot.trim().to_string(),
                expiry: l.expiry.trim().to_string(),
                quantity,
            },
        ));
    }
    let rows: Vec<usize> = lines.iter().map(|(row, _, _)| *row).collect();
    let (a, env, user) = ctx.for_orders()?;
    let (number, reason, note) = (
        form.order_number.trim().to_string(),
        form.reason.clone(),
        form.note.clone(),
    );
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let order_id = if number.is_empty() {
                None
            } else {
                match orders::find_by_number(tx, &number, env.today)? {
                    Some(o) => Some(o.id),
                    None => {
                        errors.add("order_number", "no order has this number");
                        None
                    }
                }
            };
            let mut sent = Vec::new();
            for (row, code, mut line) in lines {
                if code.is_empty() {
                    continue;
                }
                match items::find_by_code(tx, &code)? {
                    Some(item) => {
                        line.item_id = item.id;
                        sent.push(line);
                    }
                    None => errors.add(&format!("item_{row}"), "no active item has this code"),
                }
            }
            let input = ReturnInput {
                supplier_id,
                order_id,
                reason,
                note,
                lines: sent,
                expected_credit_minor,
            };
            match returns::create_return(tx, &a, Who::User(&user), &env, &input) {
                Ok(r) if errors.is_empty() => Ok(r),
                Ok(_) => Err(OrdersError::Invalid(errors)),
                Err(OrdersError::Invalid(e)) => {
                    // "Nothing to return" is not news when typed lines failed.
                    let lines_bad = errors.0.iter().any(|x| is_line_field(&x.field));
                    for x in e.0 {
                        if x.field == "lines" && lines_bad {
                            continue;
                        }
                        errors.0.push(x);
                    }
                    Err(OrdersError::Invalid(errors))
                }
                Err(e) if errors.is_empty() => Err(e),
                Err(_) => Err(OrdersError::Invalid(errors)),
            }
        })
        .await;
    match outcome {
        Ok(ret) => Ok(redirect_with_flash(
            &format!("/returns/{}", ret.id),
            "success",
            &format!("Recorded return {} to {}.", ret.number, ret.supplier_name),
        )),
        Err(OrdersError::Invalid(e)) => {
            let problems = Problems::from_errors(e, |f| return_field(&rows, f));
            return_form_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                problems,
                None,
            )
            .await
        }
        Err(OrdersError::Stock(e)) => {
            let message = capitalised(&e.to_string());
            return_form_page(
                &req,
                &ctx,
                StatusCode::CONFLICT,
                form,
                Problems::default(),
                Some(message),
            )
            .await
        }
        Err(OrdersError::Refused(m)) => {
            return_form_page(
                &req,
                &ctx,
                StatusCode::CONFLICT,
                form,
                Problems::default(),
                Some(capitalised(&m)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

struct ShownLine {
    item_id: i64,
    item_name: String,
    location: String,
    lot: String,
    expiry: String,
    quantity: i64,
}

#[derive(Template)]
#[template(path = "purchasing/return_show.html")]
struct ReturnPage {
    layout: Layout,
    ret: SupplierReturn,
    at: String,
    lines: Vec<ShownLine>,
    credits: Vec<CreditRow>,
    currency: String,
}
crate::page!(ReturnPage);

pub async fn show_return(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (ret, lines, credits) = ctx
        .state
        .db
        .read(move |c| {
            let Some(ret) = returns::get_return(c, id)? else {
                return Ok(None);
            };
            let mut lines = Vec::new();
            for l in &ret.lines {
                lines.push(ShownLine {
                    item_id: l.item_id,
                    item_name: l.item_name.clone(),
                    location: locations::path_name(c, l.location_id)?,
                    lot: l.lot.clone(),
                    expiry: l.expiry.clone(),
                    quantity: l.quantity,
                });
            }
            let credits: Vec<Credit> = returns::credits(c, Some(ret.supplier_id), false)?
                .into_iter()
                .filter(|cr| cr.return_id == Some(id))
                .collect();
            Ok::<_, DbError>(Some((ret, lines, credits)))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    render(&ReturnPage {
        layout: Layout::for_request(&req, format!("Return {}", ret.number)),
        at: when(&ret.at),
        ret,
        lines,
        credits: credits.into_iter().map(CreditRow::new).collect(),
        currency: ctx.state.config.practice.currency.clone(),
    })
}

// ---------------------------------------------------------------------
// Credits
// ---------------------------------------------------------------------

const CREDIT_FIELDS: &[(&str, &str, &str)] = &[
    ("supplier_id", "supplier_id", "Supplier"),
    ("order_id", "order_number", "Order number"),
    ("order_number", "order_number", "Order number"),
    ("expected_minor", "amount", "Amount"),
    ("amount", "amount", "Amount"),
    ("note", "note", "What it is for"),
];

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreditForm {
    #[serde(default)]
    supplier_id: String,
    #[serde(default)]
    order_number: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReceivedForm {
    #[serde(default)]
    credit_note: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    received_on: String,
}

#[derive(Template)]
#[template(path = "purchasing/credits.html")]
struct CreditsPage {
    layout: Layout,
    credits: Vec<CreditRow>,
    totals: Vec<OpenTotal>,
    suppliers: Vec<Supplier>,
    supplier_id: Option<i64>,
    open_only: bool,
    currency: String,
    can_manage: bool,
    form: CreditForm,
    errors: Problems,
    /// The credit whose "received" form is shown again, with what was
    /// typed and its problems.
    receiving: Option<i64>,
    received: ReceivedForm,
    received_errors: Problems,
}
crate::page!(CreditsPage);

impl CreditsPage {
    fn rf(&self, name: &str, id: impl std::borrow::Borrow<i64>) -> String {
        format!("{name}-{}", id.borrow())
    }

    /// What was typed into this credit's "received" form, when it is the
    /// one shown again.
    fn typed(&self, id: impl std::borrow::Borrow<i64>) -> Option<&ReceivedForm> {
        (self.receiving == Some(*id.borrow())).then_some(&self.received)
    }
}

struct CreditsView {
    filter: SupplierFilter,
    form: CreditForm,
    errors: Problems,
    receiving: Option<i64>,
    received: ReceivedForm,
    received_errors: Problems,
}

impl CreditsView {
    fn plain(filter: SupplierFilter) -> CreditsView {
        CreditsView {
            filter,
            form: CreditForm::default(),
            errors: Problems::default(),
            receiving: None,
            received: ReceivedForm::default(),
            received_errors: Problems::default(),
        }
    }
}

async fn credits_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    v: CreditsView,
) -> Result<HttpResponse, AppError> {
    let can_manage = ctx.user()?.role.may(Permission::ManageOrders);
    let supplier_id = parse_id(&v.filter.supplier_id);
    let open_only = v.filter.open == "1";
    let (credits, all_open, suppliers) = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>((
                returns::credits(c, supplier_id, open_only)?,
                returns::credits(c, supplier_id, true)?,
                suppliers::list(c)?,
            ))
        })
        .await?;
    render_status(
        status,
        &CreditsPage {
            layout: Layout::for_request(req, "Credits"),
            totals: open_totals(&all_open),
            credits: credits.into_iter().map(CreditRow::new).collect(),
            suppliers,
            supplier_id,
            open_only,
            currency: ctx.state.config.practice.currency.clone(),
            can_manage,
            form: v.form,
            errors: v.errors,
            receiving: v.receiving,
            received: v.received,
            received_errors: v.received_errors,
        },
    )
}

pub async fn list_credits(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<SupplierFilter>,
) -> Result<HttpResponse, AppError> {
    credits_page(
        &req,
        &ctx,
        StatusCode::OK,
        CreditsView::plain(q.into_inner()),
    )
    .await
}

pub async fn create_credit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<CreditForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let mut errors = FieldErrors::default();
    let supplier_id = match parse_id(&form.supplier_id) {
        Some(id) => id,
        None => {
            errors.add("supplier_id", "choose the supplier");
            0
        }
    };
    let expected_minor = errors
        .check(
            "amount",
            parse_price(&form.amount).ok_or("is required: an amount such as 12.50 or 12,50"),
        )
        .unwrap_or(0);
    let (a, env, user) = ctx.for_orders()?;
    let (number, note) = (form.order_number.trim().to_string(), form.note.clone());
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let order_id = if number.is_empty() {
                None
            } else {
                match orders::find_by_number(tx, &number, env.today)? {
                    Some(o) => Some(o.id),
                    None => {
                        errors.add("order_number", "no order has this number");
                        None
                    }
                }
            };
            let input = CreditInput {
                supplier_id,
                order_id,
                expected_minor,
                note,
            };
            with_form_errors(
                errors,
                returns::create_credit(tx, &a, Who::User(&user), &input),
            )
        })
        .await;
    match outcome {
        Ok(c) => Ok(redirect_with_flash(
            "/credits",
            "success",
            &format!(
                "Recorded a credit of {} {} from {}.",
                money(c.expected_minor),
                ctx.state.config.practice.currency,
                c.supplier_name
            ),
        )),
        Err(OrdersError::Invalid(e)) => {
            let mut v = CreditsView::plain(SupplierFilter::default());
            v.errors = Problems::from_errors(e, labelled(CREDIT_FIELDS));
            v.form = form;
            credits_page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, v).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn receive_credit(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<ReceivedForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), f.into_inner());
    let mut errors = FieldErrors::default();
    let received_minor = errors
        .check(
            "amount",
            parse_price(&form.amount).ok_or("is required: an amount such as 12.50 or 12,50"),
        )
        .unwrap_or(0);
    let input = CreditReceived {
        credit_note: form.credit_note.clone(),
        received_minor,
        received_on: form.received_on.clone(),
    };
    let (a, env) = (ctx.audit(), ctx.state.order_env());
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            with_form_errors(errors, returns::receive_credit(tx, &a, &env, id, &input))
        })
        .await;
    match outcome {
        Ok(c) => Ok(redirect_with_flash(
            "/credits",
            "success",
            &format!(
                "Credit note {} from {}: {} {} received.",
                c.credit_note,
                c.supplier_name,
                money(c.received_minor.unwrap_or(0)),
                ctx.state.config.practice.currency
            ),
        )),
        Err(OrdersError::Invalid(e)) => {
            let mut v = CreditsView::plain(SupplierFilter::default());
            v.received_errors = Problems::from_errors(e, |f| {
                let (name, label) = match f {
                    "credit_note" => ("credit_note", "Credit note number"),
                    "received_minor" | "amount" => ("amount", "Amount received"),
                    "received_on" => ("received_on", "Received on"),
                    other => (other, other),
                };
                (format!("{name}-{id}"), label.to_string())
            });
            v.receiving = Some(id);
            v.received = form;
            credits_page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, v).await
        }
        Err(OrdersError::Refused(m)) => {
            Ok(redirect_with_flash("/credits", "error", &capitalised(&m)))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_rows_come_from_numbered_fields() {
        let pairs = vec![
            ("supplier_id".to_string(), "3".to_string()),
            ("item_0".into(), "LID-1".into()),
            ("quantity_0".into(), "2".into()),
            ("item_7".into(), "X".into()),
            ("item_99".into(), "ignored".into()),
            ("csrf_token".into(), "t".into()),
        ];
        let f = ReturnForm::from_pairs(pairs);
        assert_eq!(f.supplier_id, "3");
        assert_eq!(f.lines[0].item, "LID-1");
        assert_eq!(f.lines[0].quantity, "2");
        assert_eq!(f.lines[7].item, "X");
        assert_eq!(f.lines.len(), 9, "one empty row after the last used");
        assert_eq!(ReturnForm::default().padded().lines.len(), RETURN_ROWS);
    }

    #[test]
    fn service_fields_are_named_as_the_form_shows_them() {
        let rows = [1, 4];
        assert_eq!(
            return_field(&rows, "lines[1].quantity"),
            ("quantity_4".to_string(), "Line 5 quantity".to_string())
        );
        assert_eq!(
            return_field(&rows, "lines[0].location_id"),
            ("location_1".to_string(), "Line 2 location".to_string())
        );
        assert_eq!(return_field(&rows, "order_id").0, "order_number");
        assert_eq!(return_field(&rows, "item_3").1, "Line 4 item code");
    }
}
