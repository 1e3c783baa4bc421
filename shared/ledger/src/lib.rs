//! The fund's books. Art. 39: the city's agency books every payment from its originals —
//! 根据银行回单、支出汇总表等原始凭据，参照《社会保险基金会计制度》的规定，及时填制记账凭证.
//! Here: the chart of accounts ([`chart`]) of the Social Insurance Fund Accounting System as the
//! work-injury fund keeps it, balanced vouchers and the trial balance ([`voucher`]). Pure: the
//! payment step posts a voucher for every premium receipt, refund, transfer and payment, and
//! keeps them in the store.

pub mod chart;
pub mod voucher;

pub use chart::{CHART, Category, Subject, subject};
pub use voucher::{Entry, Side, TrialBalance, Voucher, VoucherError};
