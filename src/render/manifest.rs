//! How every generated object is serialized: `apiVersion` and `kind` from its type (k8s-openapi's
//! `Resource`, implemented by our custom kinds too), then `metadata`, then the type's other fields
//! in their own order. k8s-openapi writes fields alphabetically (a ConfigMap's `data` before its
//! `metadata`); people and `kubectl` write `metadata` first, and so does this, in the one place.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};
use serde::ser::{Error, Impossible, Serialize, SerializeMap, SerializeStruct, Serializer};

/// A typed object, serialized as a manifest.
pub struct Manifest<'a, T>(pub &'a T);

/// What every generated object is.
pub trait Object: Resource + Metadata<Ty = ObjectMeta> + Serialize {}
impl<T: Resource + Metadata<Ty = ObjectMeta> + Serialize> Object for T {}

impl<T: Object> Serialize for Manifest<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("apiVersion", T::API_VERSION)?;
        map.serialize_entry("kind", T::KIND)?;
        map.serialize_entry("metadata", self.0.metadata())?;
        self.0.serialize(OtherFields(&mut map))?;
        map.end()
    }
}

/// Writes a struct's fields other than `apiVersion`, `kind` and `metadata` into an open map.
struct OtherFields<'m, M>(&'m mut M);

const SKIPPED: [&str; 3] = ["apiVersion", "kind", "metadata"];

impl<M: SerializeMap> SerializeStruct for OtherFields<'_, M> {
    type Ok = ();
    type Error = M::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        if SKIPPED.contains(&key) {
            return Ok(());
        }
        self.0.serialize_entry(key, value)
    }
    fn end(self) -> Result<(), M::Error> {
        Ok(())
    }
}

fn not_a_struct<E: Error>() -> E {
    E::custom("a generated object serializes as a struct")
}

/// Every method but `serialize_struct` refuses: objects are structs.
macro_rules! refuse {
    ($($name:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<$ret, M::Error> { Err(not_a_struct()) })*
    };
}

impl<'m, M: SerializeMap> Serializer for OtherFields<'m, M> {
    type Ok = ();
    type Error = M::Error;
    type SerializeSeq = Impossible<(), M::Error>;
    type SerializeTuple = Impossible<(), M::Error>;
    type SerializeTupleStruct = Impossible<(), M::Error>;
    type SerializeTupleVariant = Impossible<(), M::Error>;
    type SerializeMap = Impossible<(), M::Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), M::Error>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, M::Error> {
        Ok(self)
    }

    refuse! {
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), M::Error> {
        Err(not_a_struct())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), M::Error> {
        Err(not_a_struct())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), M::Error> {
        Err(not_a_struct())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;

    #[test]
    fn metadata_follows_api_version_and_kind() {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some("x".into()),
                ..Default::default()
            },
            data: Some([("k".to_string(), "v".to_string())].into()),
            ..Default::default()
        };
        let v = serde_json::to_value(Manifest(&cm)).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata", "data"]);
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["kind"], "ConfigMap");
    }
}
