//! What `stockroom demo` tells the person who ran it.

use super::*;

/// The address to sign in at: `public_url`, else the listen address (with
/// 127.0.0.1 for an unspecified one), as the setup link is built.
pub fn login_url(config: &Config) -> String {
    let base = match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            let mut addr = config.listen;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("{scheme}://{addr}")
        }
    };
    format!("{base}/login")
}

/// What `stockroom demo` prints: what was made and how to sign in.
pub fn instructions(config: &Config, s: &DemoSummary) -> String {
    let mut out = String::new();
    let kinds: Vec<String> = s.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let _ = writeln!(
        out,
        "Demo practice generated in {} (scale {}, {:.1} s):\n\
         \x20 {} items in {} categories ({} packs), {} locations, {} suppliers ({} supplier items)\n\
         \x20 {} stock movements from {} to {}: {}\n\
         \x20 {} stock levels with stock, {} of them expired and {} expiring within 30 days\n\
         \x20 {} purchase orders (a draft, one for approval, one partly delivered, one closed)\n",
        config.data_dir.display(),
        s.scale,
        s.elapsed.as_secs_f64(),
        s.items,
        s.categories,
        s.packs,
        s.locations,
        s.suppliers,
        s.supplier_items,
        s.movements,
        s.first_day,
        s.last_day,
        kinds.join(", "),
        s.levels,
        s.expired_levels,
        s.expiring_levels,
        s.orders,
    );
    let _ = writeln!(
        out,
        "Start the server with the same data directory (stockroom serve) and sign in at\n\n    {}\n",
        login_url(config)
    );
    let _ = writeln!(out, "  {:<18} {:<10} Password", "Role", "Username");
    for c in &s.credentials {
        let _ = writeln!(
            out,
            "  {:<18} {:<10} {}",
            c.role.label(),
            c.username,
            c.password
        );
    }
    let _ = writeln!(
        out,
        "\nThe passwords are shown only now. The administrator account completes the\n\
         first-run setup, so no setup link is printed at start."
    );
    let covered: Vec<&str> = s
        .credentials
        .iter()
        .filter(|c| config.security.second_factor.requires(c.role))
        .map(|c| c.username.as_str())
        .collect();
    if !covered.is_empty() {
        let _ = writeln!(
            out,
            "At the first sign-in, {} also set{} up an authenticator app on a phone\n\
             (security.second_factor_required_for = {}).",
            covered.join(" and "),
            if covered.len() == 1 { "s" } else { "" },
            config.security.second_factor.as_str()
        );
    }
    out
}
