//! The fund's books. Art. 39: the city's agency books every payment from its originals —
//! 根据银行回单、支出汇总表等原始凭据，参照《社会保险基金会计制度》的规定，及时填制记账凭证.
//! Here: the chart of accounts ([`chart`]) of the Social Insurance Fund Accounting System as the
//! work-injury fund keeps it, balanced vouchers and the trial balance ([`voucher`]), and what
//! each event books with the voucher as it is kept ([`posting`]): premium billing posts its
//! receipts, the payment step its payments, refunds and transfers.

pub mod chart;
pub mod posting;
pub mod voucher;

pub use chart::{CHART, Category, Subject, subject};
pub use posting::{Posted, benefit_account};
pub use voucher::{Entry, Side, TrialBalance, Voucher, VoucherError};
