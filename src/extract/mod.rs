//! Request extractors: the page context every HTML page is built from, and who is asking.

mod page;
mod user;

pub use page::{AsCount, FormCtx, Layout, PageCtx};
pub use user::{Admin, ClientAddr, CurrentUser, EnterpriseUser, Moderator, Staff, client_addr, request_id};
