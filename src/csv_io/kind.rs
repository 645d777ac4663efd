//! The four kinds of import and the columns each understands. The column
//! table is the single source for header matching, the import page's help
//! and the error messages, so a column cannot be accepted without being
//! documented.

use std::collections::HashMap;

use super::report::Problem;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Items,
    Suppliers,
    SupplierItems,
    OpeningStock,
}

/// One column a kind of import reads.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The name as written in the documentation and in messages.
    pub name: &'static str,
    pub required: bool,
    /// Other headers that mean the same (already normalised).
    pub aliases: &'static [&'static str],
    pub help: &'static str,
}

const fn col(
    name: &'static str,
    required: bool,
    aliases: &'static [&'static str],
    help: &'static str,
) -> Column {
    Column {
        name,
        required,
        aliases,
        help,
    }
}

const ITEMS: &[Column] = &[
    col(
        "code",
        true,
        &["item_code"],
        "Your own short code, unique in the catalog.",
    ),
    col(
        "name",
        true,
        &["item_name", "description"],
        "What the item is called.",
    ),
    col(
        "category",
        false,
        &["category_name"],
        "A category name; a missing category is created.",
    ),
    col(
        "unit",
        true,
        &["stocking_unit"],
        "What quantities are counted in: each, pair, ml, ampoule …",
    ),
    col(
        "lot_tracked",
        false,
        &["lot_tracking", "track_lots"],
        "yes or no (empty is no).",
    ),
    col(
        "expiry_tracked",
        false,
        &["expiry_tracking", "track_expiry"],
        "yes or no (empty is no).",
    ),
    col(
        "gtin",
        false,
        &["barcode", "ean", "unit_gtin"],
        "The barcode (GTIN) on a single unit.",
    ),
    col("pack_name", false, &[], "One extra pack level, e.g. box."),
    col(
        "pack_quantity",
        false,
        &["pack_size"],
        "Units in that pack, e.g. 100.",
    ),
    col(
        "pack_gtin",
        false,
        &["pack_barcode"],
        "The barcode (GTIN) printed on that pack.",
    ),
    col(
        "reorder_location",
        false,
        &[],
        "Where the reorder point applies (a location path).",
    ),
    col(
        "reorder_point",
        false,
        &[],
        "Order when stock there falls to this.",
    ),
    col("par_level", false, &[], "Fill up to this when ordering."),
    col("notes", false, &["note"], "Free text."),
];

const SUPPLIERS: &[Column] = &[
    col(
        "name",
        true,
        &["supplier", "supplier_name"],
        "The supplier's name, unique.",
    ),
    col("contact_name", false, &["contact"], "Who to ask for."),
    col(
        "email",
        false,
        &["e_mail", "email_address"],
        "Where orders go.",
    ),
    col(
        "phone",
        false,
        &["telephone", "phone_number"],
        "Phone number.",
    ),
    col(
        "account_number",
        false,
        &["account", "customer_number"],
        "Your customer number there.",
    ),
    col(
        "lead_time_days",
        false,
        &["lead_time"],
        "Days from order to delivery, 0-365 (empty is 0).",
    ),
    col("notes", false, &["note"], "Free text."),
];

const SUPPLIER_ITEMS: &[Column] = &[
    col(
        "supplier",
        true,
        &["supplier_name"],
        "The supplier's name, as already in stockroom.",
    ),
    col(
        "item",
        true,
        &["item_code"],
        "The item's code, as already in stockroom.",
    ),
    col(
        "supplier_code",
        true,
        &["order_code", "article_number"],
        "The supplier's own code for it.",
    ),
    col(
        "pack_size",
        true,
        &["pack_quantity"],
        "Units in one pack as the supplier sells it.",
    ),
    col(
        "price",
        true,
        &["pack_price", "price_per_pack"],
        "Price of one pack, e.g. 12.50 or 12,50.",
    ),
    col(
        "currency",
        false,
        &[],
        "Optional; must be the practice's currency.",
    ),
    col(
        "preferred",
        false,
        &[],
        "yes when this is where the item is ordered by default.",
    ),
];

const OPENING_STOCK: &[Column] = &[
    col(
        "item",
        true,
        &["item_code", "code"],
        "The item's code, as already in stockroom.",
    ),
    col(
        "location",
        true,
        &["location_path"],
        "Path like Treatment room › Cabinet A, or a unique name.",
    ),
    col(
        "lot",
        false,
        &["lot_number", "batch"],
        "Required for lot-tracked items.",
    ),
    col(
        "expiry",
        false,
        &["expiry_date", "use_by"],
        "YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY.",
    ),
    col(
        "quantity",
        true,
        &["qty"],
        "How many stocking units are there, more than zero.",
    ),
    col(
        "note",
        false,
        &["notes"],
        "Free text kept with the movement.",
    ),
];

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Items,
        Kind::Suppliers,
        Kind::SupplierItems,
        Kind::OpeningStock,
    ];

    /// The stored name (`imports.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Items => "items",
            Kind::Suppliers => "suppliers",
            Kind::SupplierItems => "supplier_items",
            Kind::OpeningStock => "opening_stock",
        }
    }

    /// The name in URLs (`/api/v1/imports/supplier-items`).
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Items => "items",
            Kind::Suppliers => "suppliers",
            Kind::SupplierItems => "supplier-items",
            Kind::OpeningStock => "opening-stock",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Items => "Items",
            Kind::Suppliers => "Suppliers",
            Kind::SupplierItems => "Supplier items (prices)",
            Kind::OpeningStock => "Opening stock",
        }
    }

    /// Either spelling, stored or URL.
    pub fn parse(raw: &str) -> Option<Kind> {
        let t = raw.trim().replace('-', "_");
        Kind::ALL.into_iter().find(|k| k.as_str() == t)
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Items => ITEMS,
            Kind::Suppliers => SUPPLIERS,
            Kind::SupplierItems => SUPPLIER_ITEMS,
            Kind::OpeningStock => OPENING_STOCK,
        }
    }
}

/// Which file column holds each of the kind's columns.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub index: HashMap<&'static str, usize>,
    /// The kind's columns that the file has, in the kind's order.
    pub present: Vec<&'static str>,
}

/// Matches a file's header (already normalised) against the kind's
/// columns. Missing required columns and columns given twice are errors;
/// columns nobody reads are noticed, not refused, so that a spreadsheet
/// with an extra "comments" column imports as it is.
pub fn match_header(
    kind: Kind,
    file_columns: &[String],
    line: u64,
) -> (Header, Vec<Problem>, Vec<Problem>) {
    let mut header = Header::default();
    let (mut errors, mut notices) = (Vec::new(), Vec::new());
    for (i, name) in file_columns.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        let found = kind
            .columns()
            .iter()
            .find(|c| c.name == name || c.aliases.contains(&name.as_str()));
        match found {
            Some(c) if header.index.contains_key(c.name) => errors.push(Problem::new(
                line,
                c.name,
                "appears twice in the header; keep one",
            )),
            Some(c) => {
                header.index.insert(c.name, i);
            }
            None => notices.push(Problem::new(
                line,
                name,
                "is not used by this import and is ignored",
            )),
        }
    }
    for c in kind.columns() {
        if header.index.contains_key(c.name) {
            header.present.push(c.name);
        } else if c.required {
            errors.push(Problem::new(
                line,
                c.name,
                "is required but missing from the header",
            ));
        }
    }
    (header, errors, notices)
}

/// A kind's columns as a header line, for a blank template.
pub fn template(kind: Kind) -> String {
    kind.columns()
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(",")
}
