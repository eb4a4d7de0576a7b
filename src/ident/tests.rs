//! Unit tests of identifier derivation; the reserved names are the embedded default pack's.

use super::*;
use std::sync::OnceLock;

/// The reserved names of the embedded default pack (`python-fastapi`).
pub(crate) fn pack_names() -> &'static ReservedNames {
    static NAMES: OnceLock<ReservedNames> = OnceLock::new();
    NAMES.get_or_init(|| {
        crate::scaffold::load_pack(
            &crate::scaffold::PackSource::Embedded,
            crate::config::DEFAULT_STACK,
        )
        .expect("the default pack loads")
        .manifest
        .reserved
    })
}

#[test]
fn view_names_are_unique_kebab_slugs_and_safe_idents() {
    let names = [
        "Overdue",
        "overdue!",
        "Просроченные",
        "2026 plan",
        "class",
        "📚",
        "Large rooms",
    ];
    let got: Vec<(String, String)> = view_names(&names);
    let pairs: Vec<(&str, &str)> = got.iter().map(|(s, i)| (s.as_str(), i.as_str())).collect();
    assert_eq!(
        pairs,
        vec![
            ("overdue", "overdue"),
            ("overdue-2", "overdue_2"),
            ("prosrochennye", "prosrochennye"),
            ("2026-plan", "view_2026_plan"),
            ("class", "class_view"),
            ("view-6", "view_6"),
            ("large-rooms", "large_rooms"),
        ]
    );
}

#[test]
fn readable_label_for_bare_identifiers_only() {
    assert_eq!(readable_label("issued_on"), "Issued on");
    assert_eq!(readable_label("due_on"), "Due on");
    assert_eq!(readable_label("title"), "Title");
    assert_eq!(readable_label("dueDate"), "Due date");
    assert_eq!(readable_label("_private"), "Private");
    assert_eq!(readable_label("customer_id2"), "Customer id2");
    // The issue's own words stay as written.
    assert_eq!(readable_label("Title"), "Title");
    assert_eq!(readable_label("ISBN"), "ISBN");
    assert_eq!(readable_label("Due date"), "Due date");
    assert_eq!(readable_label("due date"), "due date");
    assert_eq!(readable_label("Название"), "Название");
    assert_eq!(readable_label("название_книги"), "название_книги");
    assert_eq!(readable_label("e-mail"), "e-mail");
}

#[test]
fn slugify_basic_and_unicode() {
    assert_eq!(slugify("Book Club", "x"), "book-club");
    assert_eq!(slugify("  --Hello,   World!!  ", "x"), "hello-world");
    assert_eq!(slugify("Книжный клуб", "x"), "knizhnyi-klub");
    assert_eq!(slugify("Größe Übung", "x"), "grosse-ubung");
    assert_eq!(slugify("图书馆", "x"), "tu-shu-guan");
    assert_eq!(slugify("Café", "x"), "cafe");
    // Combining acute accent joins, it does not split.
    assert_eq!(slugify("Cafe\u{301} Bar", "x"), "cafe-bar");
    assert_eq!(slugify("Don't panic", "x"), "dont-panic");
    assert_eq!(slugify("GitHub Helper", "x"), "github-helper");
}

#[test]
fn slugify_fallback_for_empty_or_emoji() {
    assert_eq!(slugify("", "issue-7"), "issue-7");
    assert_eq!(slugify("📚🦄", "issue-7"), "issue-7");
    assert_eq!(slugify("!!! ---", "issue-7"), "issue-7");
    assert_eq!(slugify("📚 Books", "issue-7"), "books");
}

#[test]
fn slugify_cuts_at_a_dash() {
    let name = "alpha beta gamma delta epsilon zeta eta theta iota";
    let slug = slugify(name, "x");
    assert_eq!(slug, "alpha-beta-gamma-delta-epsilon-zeta-eta");
    assert!(slug.len() <= MAX_SLUG_LEN);
    // Exactly at a boundary.
    let exact = format!("{} {}", "a".repeat(40), "b");
    assert_eq!(slugify(&exact, "x"), "a".repeat(40));
    // One long word is cut hard.
    assert_eq!(slugify(&"x".repeat(50), "y"), "x".repeat(40));
    // No trailing dash even when the cut lands right after one.
    let name = format!("{} {}", "a".repeat(39), "bcd");
    assert_eq!(slugify(&name, "x"), "a".repeat(39));
}

#[test]
fn snake_and_pascal() {
    assert_eq!(snake_case("Order item"), "order_item");
    assert_eq!(snake_case("OrderItem"), "order_item");
    assert_eq!(snake_case("APIToken"), "api_token");
    assert_eq!(snake_case("book_title"), "book_title");
    assert_eq!(snake_case("Book  title!"), "book_title");
    assert_eq!(snake_case("Книга"), "kniga");
    assert_eq!(snake_case("Дата выдачи"), "data_vydachi");
    assert_eq!(snake_case("书"), "shu");
    assert_eq!(snake_case("🎉"), "");
    assert_eq!(pascal_case("order_item"), "OrderItem");
    assert_eq!(pascal_case("kniga_2"), "Kniga2");
    assert_eq!(pascal_case("e_2024"), "E2024");
}

#[test]
fn plurals() {
    for (one, many) in [
        ("book", "books"),
        ("box", "boxes"),
        ("bus", "buses"),
        ("quiz", "quizes"),
        ("match", "matches"),
        ("wish", "wishes"),
        ("category", "categories"),
        ("day", "days"),
        ("order_item", "order_items"),
        ("person", "people"),
        ("series", "series_list"),
        ("kniga_2", "knigas_2"),
        ("entity1", "entities1"),
        ("sales_data", "sales_data_list"),
    ] {
        assert_eq!(pluralize(one), many, "{one}");
    }
    assert_eq!(plural_label("Order item"), "Order items");
    assert_eq!(plural_label("Category"), "Categories");
    assert_eq!(plural_label("Person"), "People");
    assert_eq!(plural_label("API"), "APIs");
    assert_eq!(plural_label("BOX"), "BOXs");
    assert_eq!(plural_label("Series"), "Series");
    assert_eq!(plural_label("Книга"), "Книга");
    assert_eq!(plural_label("Room 101"), "Room 101");
}

#[test]
fn app_idents() {
    assert_eq!(app_ident("book-club"), "book_club");
    assert_eq!(app_ident("2048-game"), "app_2048_game");
    assert_eq!(app_ident("class"), "class_app");
    assert_eq!(app_ident("json"), "json_app");
    assert_eq!(app_ident("issue-12"), "issue_12");
}

fn names(labels: &[&str]) -> Vec<(String, String, String, String, String)> {
    entity_names(labels, pack_names())
        .into_iter()
        .map(|n| (n.name, n.ident, n.plural, n.route, n.table))
        .collect()
}

fn tuple(
    name: &str,
    ident: &str,
    plural: &str,
    route: &str,
) -> (String, String, String, String, String) {
    (
        name.into(),
        ident.into(),
        plural.into(),
        route.into(),
        plural.into(),
    )
}

#[test]
fn entity_plain_names() {
    assert_eq!(
        names(&["Book", "Order item", "Книга", "图书"]),
        vec![
            tuple("Book", "book", "books", "books"),
            tuple("OrderItem", "order_item", "order_items", "order-items"),
            tuple("Kniga", "kniga", "knigas", "knigas"),
            tuple("TuShu", "tu_shu", "tu_shus", "tu-shus"),
        ]
    );
}

#[test]
fn an_entity_named_view_does_not_take_the_views_route() {
    // `/views/<slug>` and `/api/views/<slug>` are the spec's saved views.
    assert_eq!(
        names(&["View"]),
        vec![tuple(
            "ViewRecord",
            "view_record",
            "view_records",
            "view-records"
        )]
    );
}

#[test]
fn entity_reserved_names_get_record() {
    assert_eq!(
        names(&["User", "Order", "Class", "Setting", "Test", "Form", "None"]),
        vec![
            tuple("UserRecord", "user_record", "user_records", "user-records"),
            tuple(
                "OrderRecord",
                "order_record",
                "order_records",
                "order-records"
            ),
            tuple(
                "ClassRecord",
                "class_record",
                "class_records",
                "class-records"
            ),
            // Only the route `settings` collides.
            tuple(
                "SettingRecord",
                "setting_record",
                "setting_records",
                "setting-records"
            ),
            // Only the plural `tests` (a pack module) collides.
            tuple("TestRecord", "test_record", "test_records", "test-records"),
            // Only the class name `Form` (FastAPI) collides.
            tuple("FormRecord", "form_record", "form_records", "form-records"),
            tuple("NoneRecord", "none_record", "none_records", "none-records"),
        ]
    );
}

#[test]
fn the_layouts_modules_are_reserved() {
    // Modules beside the per-entity routers (app/api/routes/) and the layout's packages.
    assert_eq!(
        names(&["Extra", "Dashboard", "Deps", "Core", "Tenancy"])
            .into_iter()
            .map(|n| n.1)
            .collect::<Vec<_>>(),
        vec![
            "extra_record",
            "dashboard_record",
            "deps_record",
            "core_record",
            "tenancy_record"
        ]
    );
}

#[test]
fn reserved_names_come_from_the_pack() {
    // A pack that reserves nothing: the language's words only.
    let none = ReservedNames::default();
    let plain = |labels: &[&str]| -> Vec<String> {
        entity_names(labels, &none)
            .into_iter()
            .map(|n| n.name)
            .collect()
    };
    assert_eq!(
        plain(&["Account", "Form", "User", "Exception"]),
        ["Account", "Form", "UserRecord", "ExceptionRecord"]
    );
    assert_eq!(
        field_idents(&[("owner", false), ("class", false)], &none),
        ["owner", "class_value"]
    );
    // A pack's own names, of every kind.
    let own = ReservedNames {
        modules: vec!["shelf".into()],
        classes: vec!["Catalog".into()],
        class_suffixes: vec!["Dto".into()],
        routes: vec!["loans".into()],
        columns: vec!["tenant_id".into()],
        attributes: vec!["shape".into()],
        ..ReservedNames::default()
    };
    let got: Vec<String> = entity_names(&["Shelf", "Catalog", "Loan", "Book", "Book dto"], &own)
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(
        got,
        [
            "ShelfRecord",
            "CatalogRecord",
            "LoanRecord",
            "Book",
            "BookDto2"
        ]
    );
    let fields = [("tenant", true), ("shape", false), ("title", false)];
    assert_eq!(
        field_idents(&fields, &own),
        ["tenant_value", "shape_value", "title"]
    );
}

#[test]
fn entity_collisions_get_numbers() {
    assert_eq!(
        names(&["Книга", "Kniga", "kniga 2", "Book", "Books"]),
        vec![
            tuple("Kniga", "kniga", "knigas", "knigas"),
            tuple("Kniga2", "kniga_2", "knigas_2", "knigas-2"),
            tuple("Kniga22", "kniga_2_2", "knigas_2_2", "knigas-2-2"),
            tuple("Book", "book", "books", "books"),
            // `books` is already Book's plural.
            tuple("Books2", "books_2", "bookses_2", "bookses-2"),
        ]
    );
    // A user entity named like a renamed one does not steal it.
    assert_eq!(
        names(&["User", "User record"]),
        vec![
            tuple("UserRecord", "user_record", "user_records", "user-records"),
            tuple(
                "UserRecord2",
                "user_record_2",
                "user_records_2",
                "user-records-2"
            ),
        ]
    );
    // Class names that only collide in PascalCase.
    assert_eq!(names(&["a b1", "a_b_1"])[1].0, "AB12");
    // A class name that equals a schema class of another entity.
    assert_eq!(names(&["Book", "Book page"])[1].0, "BookPage2");
    assert_eq!(names(&["Book out", "Book"])[1].0, "Book2");
}

#[test]
fn entity_fallbacks() {
    assert_eq!(
        names(&["📚", "2024 plan", "🎉"]),
        vec![
            tuple("Entity1", "entity1", "entities1", "entities1"),
            tuple("E2024Plan", "e_2024_plan", "e_2024_plans", "e-2024-plans"),
            tuple("Entity3", "entity3", "entities3", "entities3"),
        ]
    );
}

#[test]
fn field_renaming() {
    let fields = [
        ("Title", false),
        ("class", false),
        ("from", false),
        ("id", false),
        ("Book title", false),
        ("book_title", false),
        ("Created at", false),
        ("metadata", false),
        ("42", false),
        ("✨", false),
        ("Author", true),
        ("author_id", false),
        ("Account", true),
        ("Email", false),
        ("Date", false),
    ];
    assert_eq!(
        field_idents(&fields, pack_names()),
        vec![
            "title",
            "class_value",
            "from_value",
            "id_value",
            "book_title",
            "book_title_2",
            "created_at_value",
            "metadata_value",
            "f_42",
            "field10",
            "author",
            "author_id_2",
            "account_value",
            "email",
            "date_value",
        ]
    );
}

#[test]
fn ref_field_owns_its_id_column() {
    let fields = [("owner_ref_id", false), ("owner ref", true)];
    assert_eq!(
        field_idents(&fields, pack_names()),
        vec!["owner_ref_id", "owner_ref_2"]
    );
}

#[test]
fn long_labels_are_cut_at_a_word() {
    let label = "the quick brown fox jumps over the lazy dog again and again";
    let ident = snake_case(label);
    assert_eq!(ident, "the_quick_brown_fox_jumps_over_the_lazy");
    let n = &entity_names(&[label], pack_names())[0];
    assert!(n.table.len() <= 63);
}

#[test]
fn language_lists_are_lowercase_where_compared_lowercase() {
    for list in [
        reserved::PYTHON_BUILTINS,
        reserved::PYTHON_STDLIB,
        reserved::SQL_RESERVED,
    ] {
        for word in list {
            assert_eq!(*word, word.to_ascii_lowercase());
        }
    }
}

/// `[a-z_][a-z0-9_]*`
pub(crate) fn is_snake(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `[A-Z][A-Za-z0-9]*`
pub(crate) fn is_pascal(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `[a-z0-9]+(-[a-z0-9]+)*`
pub(crate) fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Labels that exercise the renaming rules, mixed with arbitrary text.
pub(crate) fn label_strategy() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        prop::sample::select(vec![
            "User",
            "Order",
            "class",
            "from",
            "id",
            "type",
            "Книга",
            "Kniga",
            "📚",
            "2024",
            "Book title",
            "book_title",
            "A",
            "None",
            "Setting",
            "Form",
            "Page",
            "Series",
            "Book",
            "Books",
            "Book page",
            "model_config",
            "account",
            "created at",
            "status",
            "api",
            "Doc",
            "Test",
            "order_record",
            "user_records",
        ])
        .prop_map(String::from),
        "\\PC{0,16}",
        "[A-Za-z ]{0,12}",
    ]
}

mod props {
    use super::*;
    use proptest::prelude::*;

    /// Whether a field references another entity (the only thing of its kind naming needs).
    fn kind_strategy() -> impl Strategy<Value = bool> {
        any::<bool>()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn slugify_is_a_slug_or_the_fallback(name in any::<String>()) {
            let slug = slugify(&name, "issue-1");
            prop_assert!(is_kebab(&slug), "{slug:?}");
            prop_assert!(slug.len() <= MAX_SLUG_LEN);
            let ident = app_ident(&slug);
            prop_assert!(is_snake(&ident) && !is_reserved_app_ident(&ident), "{ident:?}");
        }

        #[test]
        fn entity_names_are_safe_and_distinct(
            labels in prop::collection::vec(label_strategy(), 0..10)
        ) {
            let all = entity_names(&labels, pack_names());
            prop_assert_eq!(all.len(), labels.len());
            let mut snake = HashSet::new();
            let mut classes = HashSet::new();
            for n in &all {
                prop_assert!(is_snake(&n.ident) && is_snake(&n.plural), "{n:?}");
                prop_assert!(is_snake(&n.table), "{n:?}");
                prop_assert!(is_kebab(&n.route) && is_pascal(&n.name), "{n:?}");
                prop_assert!(!is_reserved_entity(n, pack_names()), "{n:?}");
                prop_assert!(n.table.len() <= 63, "{n:?}");
                prop_assert!(snake.insert(n.ident.clone()), "{n:?}");
                prop_assert!(snake.insert(n.plural.clone()), "{n:?}");
                prop_assert!(classes.insert(n.name.clone()), "{n:?}");
            }
        }

        #[test]
        fn field_idents_are_safe_and_distinct(
            fields in prop::collection::vec((label_strategy(), kind_strategy()), 0..12)
        ) {
            let idents = field_idents(&fields, pack_names());
            prop_assert_eq!(idents.len(), fields.len());
            let mut seen = HashSet::new();
            for (ident, (_, kind)) in idents.iter().zip(&fields) {
                prop_assert!(is_snake(ident), "{ident:?}");
                prop_assert!(!is_reserved_field(ident, *kind, pack_names()), "{ident:?}");
                prop_assert!(seen.insert(ident.clone()), "{ident:?}");
            }
        }

        #[test]
        fn snake_case_never_panics(text in any::<String>()) {
            let s = snake_case(&text);
            let ascii = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
            prop_assert!(s.chars().all(ascii), "{s:?}");
            prop_assert!(!s.starts_with('_') && !s.ends_with('_'), "{s:?}");
            prop_assert!(s.len() <= MAX_IDENT_BASE_LEN);
            let _ = plural_label(&text);
        }
    }
}
