//! The storage conformance suite against every backend.

mod sqlite {
    rushline_store::conformance_tests!(rushline_testkit::TestDb::sqlite_pair);
}

mod postgres {
    rushline_store::conformance_tests!(rushline_testkit::TestDb::postgres_pair);
}
