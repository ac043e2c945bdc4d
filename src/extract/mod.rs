//! Request extractors: the page context every HTML page is built from.

mod page;

pub use page::{Layout, PageCtx};
