//! A service as the tests and benchmarks register it.

use mec_mp1::model::{
    CategoryRef, EndPointInfo, SecurityInfo, SerializerType, ServiceInfo, ServiceState,
    TransportInfo, TransportType,
};

/// An ACTIVE REST service named `name` in category LOC, with this heartbeat interval.
pub(crate) fn service(name: &str, liveness: Option<u32>) -> ServiceInfo {
    let mut s = ServiceInfo::new(
        name.to_owned(),
        "1.0".to_owned(),
        ServiceState::Active,
        SerializerType::Json,
    );
    s.ser_category = Some(CategoryRef {
        href: "/catalogue/LOC".to_owned(),
        id: "LOC".to_owned(),
        name: "location".to_owned(),
        version: "v1".to_owned(),
    });
    s.transport_info = Some(TransportInfo {
        id: "rest".to_owned(),
        name: "REST".to_owned(),
        description: None,
        type_: TransportType::RestHttp,
        protocol: "HTTP".to_owned(),
        version: "2.0".to_owned(),
        endpoint: EndPointInfo::Uris(vec![format!("http://10.0.0.9:8080/{name}")]),
        security: SecurityInfo::default(),
        impl_specific_info: None,
    });
    s.liveness_interval = liveness;
    s
}
