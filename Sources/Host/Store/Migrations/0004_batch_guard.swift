/// `acmeeh_guard(ok, guard_name)`: what a guard statement of a pipelined batch calls, so
/// that a condition that does not hold aborts the batch on the server, rolling back its
/// implicit transaction (see `BatchStatement`). It raises SQLSTATE `AE001` (a class
/// PostgreSQL does not use) with the guard's name as DETAIL; NULL counts as false.
enum Migration0004 {
    static let batchGuard = Migration(version: 4, name: "batch_guard", sql: sql)

    private static let sql = #"""
        CREATE FUNCTION acmeeh_guard(ok boolean, guard_name text) RETURNS boolean
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            IF ok IS NOT TRUE THEN
                RAISE EXCEPTION 'guard % did not hold', guard_name
                    USING ERRCODE = 'AE001', DETAIL = guard_name;
            END IF;
            RETURN true;
        END
        $$;
        """#
}
