//! Reserved names: what an entity or field of a spec must not be called in the generated code.
//!
//! Two sources, checked together:
//! - The **language's** words, here: Python keywords, soft keywords and builtins, the standard
//!   library's modules the code imports, and SQL reserved words (SQL:2016, SQLite, PostgreSQL).
//!   They are facts about Python and SQL, the same for every pack of the `python` toolchain (the
//!   only one a pack can declare, see `crate::scaffold`), and long: a pack author should not
//!   have to copy them, and could not leave one out by mistake. A pack for another language
//!   would bring its language's lists here, chosen by its toolchain.
//! - The **pack's** names, from the `reserved:` section of its `pack.yaml` ([`ReservedNames`]):
//!   its own modules and packages, the libraries its code imports, its built-in models, tables
//!   and columns, the framework classes and attributes its generated classes live beside, the
//!   schema classes it derives from an entity class, and the URL segments it serves. They
//!   follow from the pack's layout, so a user's own pack (`templates-dir`) declares its own.

use serde::{Deserialize, Serialize};

use super::EntityNames;

/// The names a pack reserves (`reserved:` in `pack.yaml`); every list may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReservedNames {
    /// snake_case: the pack's modules and packages (a per-entity module named like one would
    /// replace or shadow it) and the third-party libraries its code imports.
    pub modules: Vec<String>,
    /// snake_case idents of the pack's built-in models (`account`).
    pub models: Vec<String>,
    /// The pack's built-in tables (`accounts`).
    pub tables: Vec<String>,
    /// PascalCase: the built-in model classes, and the framework and helper classes imported
    /// beside the entity classes (an entity class named like one would shadow it).
    pub classes: Vec<String>,
    /// Suffixes of the classes the pack derives from an entity's class name (`Create` for
    /// `BookCreate`): those names count as taken by the entity.
    pub class_suffixes: Vec<String>,
    /// kebab-case URL segments the pack serves itself (`login`, `api`).
    pub routes: Vec<String>,
    /// snake_case columns every table has, relationship names the pack adds, and form fields its
    /// pages post beside an entity's fields.
    pub columns: Vec<String>,
    /// snake_case attributes of the frameworks' model classes and names used inside a generated
    /// model class body, which a field must not shadow.
    pub attributes: Vec<String>,
}

impl ReservedNames {
    /// Checks the spelling of every name (so that a name compares equal to the forms derived
    /// from labels): snake_case lists `[a-z_][a-z0-9_]*`, routes `[a-z0-9-]+`, classes and
    /// suffixes `[A-Z][A-Za-z0-9_]*`. Returns the first bad name, with its list.
    pub fn check(&self) -> Result<(), String> {
        use Spelling::{Kebab, Pascal, Snake};
        let lists = [
            ("modules", &self.modules, Snake),
            ("models", &self.models, Snake),
            ("tables", &self.tables, Snake),
            ("columns", &self.columns, Snake),
            ("attributes", &self.attributes, Snake),
            ("routes", &self.routes, Kebab),
            ("classes", &self.classes, Pascal),
            ("class_suffixes", &self.class_suffixes, Pascal),
        ];
        for (key, list, spelling) in lists {
            if let Some(bad) = list.iter().find(|name| !spelling.accepts(name)) {
                return Err(format!(
                    "reserved.{key}: {bad:?} is not {}",
                    spelling.name()
                ));
            }
        }
        Ok(())
    }

    /// Whether a snake_case name (an entity's ident, plural or table) is the language's or
    /// the pack's.
    pub fn is_reserved_snake(&self, s: &str) -> bool {
        is_python_word(s)
            || in_list(PYTHON_STDLIB, s)
            || in_list(SQL_RESERVED, s)
            || has(&self.modules, s)
            || has(&self.models, s)
            || has(&self.tables, s)
    }

    /// An entity's class name and the classes the pack derives from it.
    pub fn class_family<'a>(&'a self, name: &'a str) -> impl Iterator<Item = String> + 'a {
        std::iter::once(name.to_string()).chain(
            self.class_suffixes
                .iter()
                .map(move |suffix| format!("{name}{suffix}")),
        )
    }
}

/// How the names of one list are spelt.
#[derive(Debug, Clone, Copy)]
enum Spelling {
    /// `[a-z_][a-z0-9_]*`
    Snake,
    /// `[a-z0-9-]+`
    Kebab,
    /// `[A-Z][A-Za-z0-9_]*`
    Pascal,
}

impl Spelling {
    fn name(self) -> &'static str {
        match self {
            Spelling::Snake => "snake_case",
            Spelling::Kebab => "kebab-case",
            Spelling::Pascal => "PascalCase",
        }
    }

    fn accepts(self, s: &str) -> bool {
        match self {
            Spelling::Snake => {
                s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            }
            Spelling::Kebab => {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            }
            Spelling::Pascal => {
                s.starts_with(|c: char| c.is_ascii_uppercase())
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            }
        }
    }
}

/// Whether any form of an entity's names is reserved (see the module doc).
pub fn is_reserved_entity(names: &EntityNames, reserved: &ReservedNames) -> bool {
    reserved.is_reserved_snake(&names.ident)
        || reserved.is_reserved_snake(&names.plural)
        || reserved.is_reserved_snake(&names.table)
        || has(&reserved.routes, &names.route)
        || has(&reserved.classes, &names.name)
        || in_list(PYTHON_KEYWORDS, &names.name)
        || in_list(PYTHON_BUILTIN_CLASSES, &names.name)
}

/// Whether a field ident is reserved (Python, SQL, the pack's columns and attributes); for a
/// reference field (`is_ref`) its `<ident>_id` column is checked too.
pub fn is_reserved_field(ident: &str, is_ref: bool, reserved: &ReservedNames) -> bool {
    let taken = |s: &str| {
        is_python_word(s)
            || in_list(SQL_RESERVED, s)
            || has(&reserved.columns, s)
            || has(&reserved.attributes, s)
    };
    taken(ident) || (is_ref && taken(&super::ref_column(ident)))
}

/// Whether `ident` is unusable as the app's package name (a Python keyword, builtin or
/// standard-library module).
pub fn is_reserved_app_ident(ident: &str) -> bool {
    is_python_word(ident) || in_list(PYTHON_STDLIB, ident)
}

/// A Python keyword or builtin.
pub fn is_python_word(s: &str) -> bool {
    in_list(PYTHON_KEYWORDS, s) || in_list(PYTHON_BUILTINS, s)
}

fn in_list(list: &[&str], name: &str) -> bool {
    list.contains(&name)
}

fn has(list: &[String], name: &str) -> bool {
    list.iter().any(|s| s == name)
}

/// Python keywords, soft keywords (`match`, `case`, `type`, `_`) and the literals.
#[rustfmt::skip]
pub const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type", "_",
];

/// Python builtins (functions, types, constants) and conventional names that break code
/// when shadowed.
#[rustfmt::skip]
pub const PYTHON_BUILTINS: &[&str] = &[
    "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray",
    "bytes", "callable", "chr", "classmethod", "compile", "complex", "copyright", "credits",
    "delattr", "dict", "dir", "divmod", "enumerate", "eval", "exec", "exit", "filter", "float",
    "format", "frozenset", "getattr", "globals", "hasattr", "hash", "help", "hex", "id", "input",
    "int", "isinstance", "issubclass", "iter", "len", "license", "list", "locals", "map", "max",
    "memoryview", "min", "next", "object", "oct", "open", "ord", "pow", "print", "property", "quit",
    "range", "repr", "reversed", "round", "set", "setattr", "slice", "sorted", "staticmethod",
    "str", "sum", "super", "tuple", "vars", "zip", "self", "cls",
];

/// Python's built-in classes and constants spelt in PascalCase, which an entity class would shadow.
pub const PYTHON_BUILTIN_CLASSES: &[&str] = &[
    "BaseException",
    "Ellipsis",
    "Exception",
    "NotImplemented",
    "Warning",
];

/// Standard-library modules the generated code imports; an entity or the app named like one
/// would shadow it.
#[rustfmt::skip]
pub const PYTHON_STDLIB: &[&str] = &[
    "asyncio", "csv", "datetime", "decimal", "enum", "hashlib", "io", "json", "logging", "math",
    "os", "random", "re", "secrets", "string", "sys", "test", "time", "typing", "uuid",
];

/// SQL reserved words: SQL:2016 reserved, SQLite keywords, PostgreSQL reserved words,
/// `session`/`role`, and system column names (`rowid`, `oid`, `ctid`, …).
#[rustfmt::skip]
pub const SQL_RESERVED: &[&str] = &[
    // SQL:2016 reserved words.
    "abs", "acos", "all", "allocate", "alter", "and", "any", "are", "array", "array_agg",
    "array_max_cardinality", "as", "asensitive", "asin", "asymmetric", "at", "atan", "atomic",
    "authorization", "avg", "begin", "begin_frame", "begin_partition", "between", "bigint",
    "binary", "blob", "boolean", "both", "by", "call", "called", "cardinality", "cascaded", "case",
    "cast", "ceil", "ceiling", "char", "char_length", "character", "character_length", "check",
    "classifier", "clob", "close", "coalesce", "collate", "collect", "column", "commit",
    "condition", "connect", "constraint", "contains", "convert", "copy", "corr", "corresponding",
    "cos", "cosh", "count", "covar_pop", "covar_samp", "create", "cross", "cube", "cume_dist",
    "current", "current_catalog", "current_date", "current_default_transform_group", "current_path",
    "current_role", "current_row", "current_schema", "current_time", "current_timestamp",
    "current_transform_group_for_type", "current_user", "cursor", "cycle", "date", "day",
    "deallocate", "dec", "decfloat", "decimal", "declare", "default", "define", "delete",
    "dense_rank", "deref", "describe", "deterministic", "disconnect", "distinct", "double", "drop",
    "dynamic", "each", "element", "else", "empty", "end", "end_frame", "end_partition", "end_exec",
    "equals", "escape", "every", "except", "exec", "execute", "exists", "exp", "external",
    "extract", "false", "fetch", "filter", "first_value", "float", "floor", "for", "foreign",
    "frame_row", "free", "from", "full", "function", "fusion", "get", "global", "grant", "group",
    "grouping", "groups", "having", "hold", "hour", "identity", "in", "indicator", "initial",
    "inner", "inout", "insensitive", "insert", "int", "integer", "intersect", "intersection",
    "interval", "into", "is", "join", "json_array", "json_arrayagg", "json_exists", "json_object",
    "json_objectagg", "json_query", "json_table", "json_table_primitive", "json_value", "lag",
    "language", "large", "last_value", "lateral", "lead", "leading", "left", "like", "like_regex",
    "listagg", "ln", "local", "localtime", "localtimestamp", "log", "log10", "lower", "match",
    "match_number", "match_recognize", "matches", "max", "measures", "member", "merge", "method",
    "min", "minute", "mod", "modifies", "module", "month", "multiset", "national", "natural",
    "nchar", "nclob", "new", "no", "none", "normalize", "not", "nth_value", "ntile", "null",
    "nullif", "numeric", "occurrences_regex", "octet_length", "of", "offset", "old", "omit", "on",
    "one", "only", "open", "or", "order", "out", "outer", "over", "overlaps", "overlay",
    "parameter", "partition", "pattern", "per", "percent", "percent_rank", "percentile_cont",
    "percentile_disc", "period", "portion", "position", "position_regex", "power", "precedes",
    "precision", "prepare", "primary", "procedure", "ptf", "range", "rank", "reads", "real",
    "recursive", "ref", "references", "referencing", "regr_avgx", "regr_avgy", "regr_count",
    "regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy", "release",
    "result", "return", "returns", "revoke", "right", "rollback", "rollup", "row", "row_number",
    "rows", "running", "savepoint", "scope", "scroll", "search", "second", "seek", "select",
    "sensitive", "session_user", "set", "show", "similar", "sin", "sinh", "skip", "smallint",
    "some", "specific", "specifictype", "sql", "sqlexception", "sqlstate", "sqlwarning", "sqrt",
    "start", "static", "stddev_pop", "stddev_samp", "submultiset", "subset", "substring",
    "substring_regex", "succeeds", "sum", "symmetric", "system", "system_time", "system_user",
    "table", "tablesample", "tan", "tanh", "then", "time", "timestamp", "timezone_hour",
    "timezone_minute", "to", "trailing", "translate", "translate_regex", "translation", "treat",
    "trigger", "trim", "trim_array", "true", "truncate", "uescape", "union", "unique", "unknown",
    "unnest", "update", "upper", "user", "using", "value", "values", "value_of", "var_pop",
    "var_samp", "varbinary", "varchar", "varying", "versioning", "when", "whenever", "where",
    "width_bucket", "window", "with", "within", "without", "year",
    // SQLite keywords not listed above.
    "abort", "action", "add", "after", "always", "analyze", "asc", "attach", "autoincrement",
    "before", "cascade", "conflict", "database", "deferrable", "deferred", "desc", "detach", "do",
    "exclude", "exclusive", "explain", "fail", "first", "following", "generated", "glob", "if",
    "ignore", "immediate", "index", "indexed", "initially", "instead", "isnull", "key", "last",
    "limit", "materialized", "nothing", "notnull", "nulls", "others", "plan", "pragma", "preceding",
    "query", "raise", "regexp", "reindex", "rename", "replace", "restrict", "returning", "temp",
    "temporary", "ties", "transaction", "unbounded", "vacuum", "view", "virtual",
    // PostgreSQL reserved words not listed above.
    "analyse", "collation", "concurrently", "freeze", "ilike", "placing", "variadic", "verbose",
    // Session and role variables of SQL dialects, and system columns.
    "session", "role", "rowid", "oid", "_rowid_", "tableoid", "xmin", "xmax", "cmin", "cmax",
    "ctid",
];
