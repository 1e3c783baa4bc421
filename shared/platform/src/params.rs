//! The parameter set a process starts with: the built-in set (`swi_rules::ParamSet::builtin`),
//! merged with the file `--params`/`SWI_PARAMS` names, where the city sets pending figures and
//! corrects others.

use std::path::Path;

use swi_rules::ParamSet;

/// The built-in set, merged with `file` when given.
///
/// # Errors
/// The file cannot be read, or its values fail the parameter checks (it is refused whole).
pub fn load(file: Option<&Path>) -> Result<ParamSet, String> {
    let builtin =
        ParamSet::builtin().map_err(|e| format!("the built-in parameter set is broken: {e}"))?;
    let Some(path) = file else {
        return Ok(builtin.clone());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read parameter file {}: {e}", path.display()))?;
    builtin
        .merged(&path.display().to_string(), &text)
        .map_err(|e| format!("parameter file {} refused: {e}", path.display()))
}
