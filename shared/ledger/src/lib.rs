//! The fund's books (Art. 39: 根据银行回单、支付汇总表等编制记账凭证): the chart of accounts
//! ([`chart`]) of the Social Insurance Fund Accounting System as the work-injury fund keeps it,
//! balanced vouchers and the trial balance ([`voucher`]). Pure: the payment step posts a voucher
//! for every premium receipt, refund, transfer and payment, and keeps them in the store.

pub mod chart;
pub mod voucher;

pub use chart::{CHART, Category, Subject, subject};
pub use voucher::{Entry, Side, TrialBalance, Voucher, VoucherError};
