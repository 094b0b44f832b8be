//! Finding NaN and infinities in a spec before `--set` carries it through JSON, which has no
//! form for them (serde_json writes them as null, so `Some(NaN)` came back as `None` and a
//! plain `NaN` as a type error blamed on the `--set`).

use serde::Serialize;
use serde::ser;

/// The dotted path (`dram.fabric_gb_per_s`, `model[2].scale`) of the first NaN or infinite
/// float in `value`, in serialisation order, if any.
pub fn first_non_finite<T: Serialize>(value: &T) -> Option<String> {
    let mut w = Walker {
        path: Vec::new(),
        found: None,
    };
    // The walker never fails; an error only stops the walk once something is found.
    let _ = value.serialize(&mut w);
    w.found
}

/// One step of a path: a field name or a list index.
enum Step {
    Field(&'static str),
    Key(String),
    Index(usize),
}

struct Walker {
    path: Vec<Step>,
    found: Option<String>,
}

/// Ends the walk at the first find.
#[derive(Debug)]
struct Found;

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("found")
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Found
    }
}

impl Walker {
    fn float(&mut self, x: f64) -> Result<(), Found> {
        if x.is_finite() {
            return Ok(());
        }
        let mut s = String::new();
        for step in &self.path {
            let name = match step {
                Step::Field(f) => f,
                Step::Key(k) => k.as_str(),
                Step::Index(i) => {
                    s.push_str(&format!("[{i}]"));
                    continue;
                }
            };
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(name);
        }
        self.found = Some(s);
        Err(Found)
    }

    fn nested<T: Serialize + ?Sized>(&mut self, step: Step, value: &T) -> Result<(), Found> {
        self.path.push(step);
        let r = value.serialize(&mut *self);
        self.path.pop();
        r
    }
}

/// A sequence, tuple or map being walked: the index of its next element.
struct Compound<'a> {
    w: &'a mut Walker,
    next: usize,
}

/// Methods for values that hold no float: nothing to look at.
macro_rules! ignore {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, _: $ty) -> Result<(), Found> {
            Ok(())
        }
    )*};
}

impl<'a> ser::Serializer for &'a mut Walker {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_f32(self, v: f32) -> Result<(), Found> {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Found> {
        self.float(v)
    }
    ignore!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_char: char,
        serialize_str: &str,
        serialize_bytes: &[u8]
    );
    fn serialize_none(self) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Found> {
        Ok(Compound::of(self))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Found> {
        Ok(Compound::of(self))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Found> {
        Ok(Compound::of(self))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Found> {
        Ok(Compound::of(self))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Found> {
        Ok(Compound::of(self))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Found> {
        Ok(Compound::of(self))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Found> {
        Ok(Compound::of(self))
    }
}

impl<'a> Compound<'a> {
    /// A walk of `w`'s next compound value from its first element.
    fn of(w: &'a mut Walker) -> Compound<'a> {
        Compound { w, next: 0 }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        let i = self.next;
        self.next += 1;
        self.w.nested(Step::Index(i), value)
    }
}

/// The element-wise compounds: each element is the next index of the path.
macro_rules! indexed {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Found;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
                self.element(value)
            }
            fn end(self) -> Result<(), Found> {
                Ok(())
            }
        }
    )*};
}

indexed!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Found> {
        // Map keys of specs are names; their text becomes the path step.
        self.w.path.push(Step::Key(
            serde_json::to_value(key)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "?".into()),
        ));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        let r = value.serialize(&mut *self.w);
        self.w.path.pop();
        r
    }
    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

/// The named compounds: each field is a named step of the path.
macro_rules! named {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Found;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Found> {
                self.w.nested(Step::Field(key), value)
            }
            fn end(self) -> Result<(), Found> {
                Ok(())
            }
        }
    )*};
}

named!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Inner {
        a: f64,
        b: Option<f32>,
    }

    #[derive(Serialize)]
    enum Layer {
        Dense { scale: f64 },
        Plain(f64),
    }

    #[derive(Serialize)]
    struct Outer {
        name: String,
        inner: Inner,
        model: Vec<Layer>,
    }

    fn outer(a: f64, b: Option<f32>, scale: f64, plain: f64) -> Outer {
        Outer {
            name: "inf".into(),
            inner: Inner { a, b },
            model: vec![Layer::Plain(plain), Layer::Dense { scale }],
        }
    }

    #[test]
    fn finds_the_path_of_the_first_nan_or_infinity() {
        assert_eq!(first_non_finite(&outer(1.0, Some(2.0), 3.0, 4.0)), None);
        assert_eq!(
            first_non_finite(&outer(f64::NAN, None, 3.0, 4.0)).as_deref(),
            Some("inner.a")
        );
        assert_eq!(
            first_non_finite(&outer(1.0, Some(f32::INFINITY), 3.0, 4.0)).as_deref(),
            Some("inner.b")
        );
        assert_eq!(
            first_non_finite(&outer(1.0, None, f64::NEG_INFINITY, 4.0)).as_deref(),
            Some("model[1].scale")
        );
        assert_eq!(
            first_non_finite(&outer(1.0, None, 3.0, f64::NAN)).as_deref(),
            Some("model[0]")
        );
    }
}
