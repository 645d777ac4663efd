//! `stockroom check` for purchasing: the order lines' figures against
//! their receipt lines, receipt and return lines against the ledger
//! movements they recorded, order totals against their lines, and each
//! order's state against what has been delivered.

use rusqlite::Connection;

/// Every inconsistency found, as a sentence naming the record.
pub fn check(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut run = |sql: &str, describe: &dyn Fn(&rusqlite::Row) -> rusqlite::Result<String>| {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| describe(r))?;
        for row in rows {
            problems.push(row?);
        }
        Ok::<_, rusqlite::Error>(())
    };
    run(
        "SELECT o.number, l.id, l.received, l.substituted, l.damaged,
                coalesce(sum(CASE WHEN r.substitute = 0 THEN r.quantity END), 0),
                coalesce(sum(CASE WHEN r.substitute = 1 THEN r.quantity END), 0),
                coalesce(sum(r.damaged), 0)
         FROM order_lines l JOIN purchase_orders o ON o.id = l.order_id
         LEFT JOIN receipt_lines r ON r.order_line_id = l.id
         GROUP BY l.id
         HAVING l.received <> coalesce(sum(CASE WHEN r.substitute = 0 THEN r.quantity END), 0)
             OR l.substituted <> coalesce(sum(CASE WHEN r.substitute = 1 THEN r.quantity END), 0)
             OR l.damaged <> coalesce(sum(r.damaged), 0)",
        &|r| {
            Ok(format!(
                "order {} line {}: received/substituted/damaged {}/{}/{} but its receipts add up to {}/{}/{}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?
            ))
        },
    )?;
    run(
        "SELECT 'receipt line', r.id FROM receipt_lines r
         LEFT JOIN stock_movements m ON m.id = r.movement_id
         WHERE (r.quantity > 0) <> (r.movement_id IS NOT NULL)
            OR (m.id IS NOT NULL AND (m.kind <> 'receipt' OR m.item_id <> r.item_id
                OR m.location_id <> r.location_id OR m.lot <> r.lot OR m.expiry <> r.expiry
                OR m.quantity <> r.quantity))
         UNION ALL
         SELECT 'return line', r.id FROM return_lines r JOIN stock_movements m ON m.id = r.movement_id
         WHERE m.kind <> 'return' OR m.item_id <> r.item_id OR m.location_id <> r.location_id
            OR m.lot <> r.lot OR m.expiry <> r.expiry OR m.quantity <> -r.quantity",
        &|r| {
            Ok(format!(
                "{} {} does not match the ledger movement it recorded",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?
            ))
        },
    )?;
    run(
        "SELECT o.number, o.total_minor, coalesce(sum(l.line_total_minor), 0)
         FROM purchase_orders o LEFT JOIN order_lines l ON l.order_id = o.id
         WHERE o.state NOT IN ('draft', 'rejected')
         GROUP BY o.id HAVING o.total_minor <> coalesce(sum(l.line_total_minor), 0)",
        &|r| {
            Ok(format!(
                "order {}: total {} but its lines add up to {}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?
            ))
        },
    )?;
    run(
        "SELECT o.number, o.state FROM purchase_orders o
         WHERE (o.state = 'received' AND EXISTS (SELECT 1 FROM order_lines l
                    WHERE l.order_id = o.id AND l.received + l.substituted < l.quantity))
            OR (o.state IN ('sent', 'acknowledged', 'partially_received') AND EXISTS (
                    SELECT 1 FROM order_lines l WHERE l.order_id = o.id)
                AND NOT EXISTS (SELECT 1 FROM order_lines l
                    WHERE l.order_id = o.id AND l.received + l.substituted < l.quantity))
            OR (o.state IN ('draft', 'submitted', 'approved', 'rejected', 'queued', 'dispatch_failed')
                AND EXISTS (SELECT 1 FROM receipts r WHERE r.order_id = o.id))",
        &|r| {
            Ok(format!(
                "order {} is {} but its deliveries say otherwise",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        },
    )?;
    Ok(problems)
}
