//! The timing API: current time and timing capabilities.

use mec_core::TimeStamp;
use serde::{Deserialize, Serialize};

mec_core::wire_enum! {
    /// Whether the platform's time is traceable to a reference (`timeSourceStatus`).
    pub enum TimeSourceStatus {
        /// Traceable.
        Traceable = "TRACEABLE",
        /// Not traceable.
        Nontraceable = "NONTRACEABLE",
    }
}

/// The platform's current time (`CurrentTime`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentTime {
    /// Seconds since the epoch.
    pub seconds: u64,
    /// Nanoseconds within the second.
    pub nano_seconds: u32,
    /// Traceability.
    pub time_source_status: TimeSourceStatus,
}

mec_core::wire_enum! {
    /// How an NTP server is addressed (`ntpServerAddrType`).
    pub enum NtpServerAddrType {
        /// By IP address.
        IpAddress = "IP_ADDRESS",
        /// By DNS name.
        DnsName = "DNS_NAME",
    }
}

mec_core::wire_enum! {
    /// NTP authentication (`authenticationOption`).
    pub enum AuthenticationOption {
        /// None.
        None = "NONE",
        /// Symmetric key.
        SymmetricKey = "SYMMETRIC_KEY",
        /// Autokey.
        AutoKey = "AUTO_KEY",
    }
}

/// An NTP server the platform offers (`TimingCaps.ntpServers`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NtpServer {
    /// How it is addressed.
    pub ntp_server_addr_type: NtpServerAddrType,
    /// Its address.
    pub ntp_server_addr: String,
    /// Minimum poll interval (log2 seconds).
    pub min_polling_interval: u32,
    /// Maximum poll interval (log2 seconds).
    pub max_polling_interval: u32,
    /// Local priority.
    pub local_priority: u32,
    /// Authentication.
    pub authentication_option: AuthenticationOption,
    /// Authentication key number.
    pub authentication_key_num: u32,
}

/// A PTP master the platform offers (`TimingCaps.ptpMasters`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PtpMaster {
    /// Its IP address.
    pub ptp_master_ip_address: String,
    /// Local priority.
    pub ptp_master_local_priority: u32,
    /// Maximum rate of delay requests (log2 per second).
    pub delay_req_max_rate: u32,
}

/// The platform's timing capabilities (`TimingCaps`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimingCaps {
    /// When these were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<TimeStamp>,
    /// NTP servers.
    #[serde(
        default,
        deserialize_with = "super::common::null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ntp_servers: Vec<NtpServer>,
    /// PTP masters.
    #[serde(
        default,
        deserialize_with = "super::common::null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ptp_masters: Vec<PtpMaster>,
}
