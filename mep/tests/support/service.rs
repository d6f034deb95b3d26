//! A service as the tests and benchmarks register it.

use mec_mp1::model::{
    CategoryRef, EndPointInfo, SerializerType, ServiceInfo, ServiceState, TransportInfo,
    TransportType,
};

/// An ACTIVE REST service named `name` in category LOC, with this heartbeat interval.
pub(crate) fn service(name: &str, liveness: Option<u32>) -> ServiceInfo {
    let mut s = ServiceInfo::new(
        name.to_owned(),
        "1.0".to_owned(),
        ServiceState::Active,
        SerializerType::Json,
    );
    s.ser_category = Some(CategoryRef::new(
        "/catalogue/LOC".to_owned(),
        "LOC".to_owned(),
        "location".to_owned(),
        "v1".to_owned(),
    ));
    s.transport_info = Some(TransportInfo::new(
        "rest".to_owned(),
        "REST".to_owned(),
        TransportType::RestHttp,
        "HTTP".to_owned(),
        "2.0".to_owned(),
        EndPointInfo::Uris(vec![format!("http://10.0.0.9:8080/{name}")]),
    ));
    s.liveness_interval = liveness;
    s
}
