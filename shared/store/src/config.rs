//! Where state and documents live, read in one place from the environment:
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `SWI_STORE` | `embedded` (SQLite file + document directory) or `aws` (DynamoDB + S3) | `embedded` |
//! | `SWI_DATA_DIR` | embedded: the directory holding `state.sqlite3` and `documents/` | `.swi/data` |
//! | `SWI_TABLE` | aws: the DynamoDB table | required for `aws` |
//! | `SWI_BUCKET` | aws: the S3 bucket of documents | required for `aws` |
//! | `AWS_ENDPOINT_URL` | aws: another endpoint (LocalStack); S3 then uses path-style addressing | AWS |

use std::path::PathBuf;

/// Which backend, and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// One SQLite file and a document directory under `data_dir`.
    Embedded {
        /// The data directory.
        data_dir: PathBuf,
    },
    /// DynamoDB and S3.
    Aws {
        /// The table.
        table: String,
        /// The bucket.
        bucket: String,
        /// Another endpoint than AWS's (LocalStack), if set.
        endpoint: Option<String>,
    },
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store configuration: {0}")]
pub struct ConfigError(pub String);

impl StoreConfig {
    /// From the process environment.
    ///
    /// # Errors
    /// An unknown `SWI_STORE`, or `aws` without `SWI_TABLE` / `SWI_BUCKET`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// From any lookup of variables (tests pass a map).
    ///
    /// # Errors
    /// As [`StoreConfig::from_env`].
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match var("SWI_STORE").as_deref().unwrap_or("embedded") {
            "embedded" => Ok(StoreConfig::Embedded {
                data_dir: var("SWI_DATA_DIR")
                    .map_or_else(|| PathBuf::from(".swi/data"), PathBuf::from),
            }),
            "aws" => {
                let need =
                    |k: &str| var(k).ok_or_else(|| ConfigError(format!("SWI_STORE=aws needs {k}")));
                Ok(StoreConfig::Aws {
                    table: need("SWI_TABLE")?,
                    bucket: need("SWI_BUCKET")?,
                    endpoint: var("AWS_ENDPOINT_URL"),
                })
            }
            other => Err(ConfigError(format!(
                "SWI_STORE must be `embedded` or `aws`, not `{other}`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<StoreConfig, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        StoreConfig::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn embedded_is_the_default() {
        assert_eq!(
            cfg(&[]).unwrap(),
            StoreConfig::Embedded {
                data_dir: PathBuf::from(".swi/data")
            }
        );
    }

    #[test]
    fn aws_needs_a_table_and_a_bucket() {
        assert!(cfg(&[("SWI_STORE", "aws"), ("SWI_TABLE", "t")]).is_err());
        assert_eq!(
            cfg(&[
                ("SWI_STORE", "aws"),
                ("SWI_TABLE", "t"),
                ("SWI_BUCKET", "b"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
            ])
            .unwrap(),
            StoreConfig::Aws {
                table: "t".into(),
                bucket: "b".into(),
                endpoint: Some("http://127.0.0.1:4566".into())
            }
        );
        assert!(cfg(&[("SWI_STORE", "s3")]).is_err());
    }
}
