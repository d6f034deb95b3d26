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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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

impl CurrentTime {
    /// `seconds` and `nano_seconds` since the epoch, with their traceability.
    pub fn new(seconds: u64, nano_seconds: u32, time_source_status: TimeSourceStatus) -> Self {
        Self {
            seconds,
            nano_seconds,
            time_source_status,
        }
    }
}

impl NtpServer {
    /// An NTP server at `ntp_server_addr`, polled every 2^`min_polling_interval` to
    /// 2^`max_polling_interval` seconds, local priority 1, without authentication.
    pub fn new(
        ntp_server_addr_type: NtpServerAddrType,
        ntp_server_addr: impl Into<String>,
        min_polling_interval: u32,
        max_polling_interval: u32,
    ) -> Self {
        Self {
            ntp_server_addr_type,
            ntp_server_addr: ntp_server_addr.into(),
            min_polling_interval,
            max_polling_interval,
            local_priority: 1,
            authentication_option: AuthenticationOption::None,
            authentication_key_num: 0,
        }
    }

    /// With a local priority.
    #[must_use]
    pub fn with_local_priority(mut self, local_priority: u32) -> Self {
        self.local_priority = local_priority;
        self
    }

    /// With authentication and its key number.
    #[must_use]
    pub fn with_authentication(mut self, option: AuthenticationOption, key_num: u32) -> Self {
        self.authentication_option = option;
        self.authentication_key_num = key_num;
        self
    }
}

impl PtpMaster {
    /// The PTP master at `ptp_master_ip_address`.
    pub fn new(
        ptp_master_ip_address: impl Into<String>,
        ptp_master_local_priority: u32,
        delay_req_max_rate: u32,
    ) -> Self {
        Self {
            ptp_master_ip_address: ptp_master_ip_address.into(),
            ptp_master_local_priority,
            delay_req_max_rate,
        }
    }
}

impl TimingCaps {
    /// No NTP server, no PTP master, no time stamp.
    pub fn new() -> Self {
        Self::default()
    }

    /// With when these were read.
    #[must_use]
    pub fn with_time_stamp(mut self, time_stamp: TimeStamp) -> Self {
        self.time_stamp = Some(time_stamp);
        self
    }

    /// With one more NTP server.
    #[must_use]
    pub fn with_ntp_server(mut self, server: NtpServer) -> Self {
        self.ntp_servers.push(server);
        self
    }

    /// With one more PTP master.
    #[must_use]
    pub fn with_ptp_master(mut self, master: PtpMaster) -> Self {
        self.ptp_masters.push(master);
        self
    }
}
