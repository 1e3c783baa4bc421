//! `swi user add`: an administrator creates a local account of the embedded portal (the
//! password read from standard input, never from the command line, where other users of the
//! machine could see it). Audited as the administrator of the machine.

use anyhow::{Context, Result, bail};
use swi_domain::Role;

/// `swi user add`.
///
/// # Errors
/// A bad role, county, unit, name or password; a name already taken; the store.
pub async fn add(
    platform: swi_platform::Platform,
    username: &str,
    role: &str,
    county: &str,
    unit: Option<String>,
    name: &str,
) -> Result<()> {
    let role: Role = role
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown role `{role}`"))?;
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("give the password on standard input, e.g. `printf '%s' \"$PW\" | swi user add …`");
    }
    let admin = swi_platform::jobs::job_actor("user-add", "本机管理员");
    let account = swi_portal::accounts::add(
        &platform,
        swi_portal::accounts::NewAccount {
            username: username.to_owned(),
            sub: None,
            role,
            county: county.to_owned(),
            unit,
            name: name.to_owned(),
            password,
        },
        &admin,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.en))?;
    println!(
        "account {} created: {} in {} (sub {})",
        account.username,
        account.role.as_str(),
        account.county,
        account.sub
    );
    Ok(())
}
