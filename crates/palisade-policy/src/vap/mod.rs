//! ValidatingAdmissionPolicy and bindings, evaluated with CEL.
