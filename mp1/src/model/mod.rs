//! The Mp1 data model: every schema of ETSI GS MEC 011's application support and service management APIs, with
//! member names and enum spellings as the spec writes them, reading EdgeGallery's variants too.
//!
//! Reading is lenient where real MEPs differ (unknown members ignored, `null` for empty arrays, EdgeGallery's
//! spellings); writing is exact (optional members skipped, never `null`).

mod app_support;
mod common;
mod dns_rules;
mod filter;
mod ids;
mod notifications;
mod registrations;
mod services;
mod subscriptions;
mod timing;
mod traffic_rules;
mod validate;

pub use app_support::*;
pub use common::{
    CategoryRef, LinkType, SubscriptionLink, SubscriptionLinkList, SubscriptionLinkListLinks,
};
pub use dns_rules::*;
pub use filter::ServiceFilter;
pub use ids::{AppInstanceId, RuleId, SerInstanceId, ServiceId, SubscriptionId};
pub use mec_core::{ProblemDetails, TimeStamp};
pub use notifications::*;
pub use registrations::*;
pub use services::*;
pub use subscriptions::*;
pub use timing::*;
pub use traffic_rules::*;
pub use validate::{InvalidMember, Validate};
