//! The demo's portal accounts: one per role the demo's story needs, each standing for the same
//! person as the demo's token of that role (so that a clerk who did a step of a demo claim is
//! kept from its next step in the portal too). Passwords are random, written with the user names
//! to `demo-accounts.txt` (mode 0600) and printed once; a store that has them is left as it is.

use anyhow::{Context, Result};
use swi_domain::Role;
use swi_platform::Platform;

/// One demo account: user name, subject, role, county, unit, display name.
type Spec = (
    &'static str,
    &'static str,
    Role,
    &'static str,
    Option<&'static str>,
    &'static str,
);

/// Every demo account.
const ACCOUNTS: [Spec; 15] = [
    (
        "acceptor-360702",
        "demo-acceptor-360702",
        Role::Acceptor,
        "360702",
        None,
        "章贡区受理窗口",
    ),
    (
        "handler-360702",
        "demo-handler-360702",
        Role::Handler,
        "360702",
        None,
        "章贡区承办岗",
    ),
    (
        "first-reviewer-360702",
        "demo-first-reviewer-360702",
        Role::FirstReviewer,
        "360702",
        None,
        "章贡区初审岗",
    ),
    (
        "re-reviewer-360702",
        "demo-re-reviewer-360702",
        Role::ReReviewer,
        "360702",
        None,
        "章贡区复核岗",
    ),
    (
        "employer-claims",
        "demo-employer-claims",
        Role::Employer,
        "360702",
        Some(crate::demo_claims::UNIT),
        "演示单位经办人",
    ),
    (
        "employer-360702",
        "demo-employer",
        Role::Employer,
        "360702",
        Some(crate::demo::UNIT),
        "演示参保单位经办人",
    ),
    (
        "citizen-360703",
        "demo-citizen",
        Role::Citizen,
        "360703",
        None,
        "演示参保人员",
    ),
    (
        "citizen-claims",
        crate::demo_claims::CLAIMANT.0,
        Role::Citizen,
        "360702",
        None,
        "林伤八",
    ),
    (
        "citizen-paid",
        crate::demo_payments::PAID.0,
        Role::Citizen,
        "360702",
        None,
        "孙伤九",
    ),
    (
        "finance-360702",
        crate::demo_payments::FINANCE,
        Role::Finance,
        "360702",
        None,
        "章贡区承办机构财务",
    ),
    (
        "officer-360702",
        crate::demo_payments::OFFICER,
        Role::AgencyOfficer,
        "360702",
        None,
        "章贡区经办机构业务科室",
    ),
    (
        "supervisor-city",
        "demo-supervisor",
        Role::Supervisor,
        "360700",
        None,
        "市稽核内控",
    ),
    (
        "supervisor-360702",
        crate::demo_supervision::SUPERVISOR,
        Role::Supervisor,
        "360702",
        None,
        "章贡区稽核内控",
    ),
    (
        "archivist-360702",
        crate::demo::ARCHIVIST,
        Role::Archivist,
        "360702",
        None,
        "章贡区档案管理员",
    ),
    (
        "officer-city",
        "demo-officer-city",
        Role::AgencyOfficer,
        "360700",
        None,
        "市经办机构业务科室",
    ),
];

/// Creates the accounts the store lacks; answers (user name, password, role) of those created.
///
/// # Errors
/// The store; the file cannot be written.
pub async fn seed(p: &Platform, file: &std::path::Path) -> Result<Vec<(String, String, Role)>> {
    let admin = swi_platform::jobs::job_actor("demo", "演示数据");
    let mut made = Vec::new();
    for (username, sub, role, county, unit, name) in ACCOUNTS {
        if swi_portal::accounts::load(p, username)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.en))?
            .is_some()
        {
            continue;
        }
        let password = swi_portal::session::random_token()
            .map_err(|e| anyhow::anyhow!("{}", e.en))?[..16]
            .to_owned();
        swi_portal::accounts::add(
            p,
            swi_portal::accounts::NewAccount {
                username: username.into(),
                sub: Some(sub.into()),
                role,
                county: county.into(),
                unit: unit.map(str::to_owned),
                name: name.into(),
                password: password.clone(),
            },
            &admin,
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo account {username}: {}", e.en))?;
        made.push((username.to_owned(), password, role));
    }
    if !made.is_empty() {
        let mut text = std::fs::read_to_string(file).unwrap_or_else(|_| {
            "# swi demo accounts of the portal: user name, password, role\n".to_owned()
        });
        for (u, pw, role) in &made {
            text.push_str(&format!("{u} {pw} {}\n", role.as_str()));
        }
        crate::demo::write_private(file, &text)
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    Ok(made)
}
