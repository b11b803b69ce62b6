//! `kiln-task-events` started without its configuration: it reports an init error to the Runtime
//! API naming the variable it lacks, and exits.

#[test]
fn without_its_configuration_it_reports_an_init_error_naming_what_is_missing() {
    let reported = kiln_tests::lambda::init_error_of(env!("CARGO_BIN_EXE_kiln-task-events"));
    assert_eq!(reported["errorType"], kiln_lambda::INIT_ERROR_TYPE, "{reported}");
    let message = reported["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("KILN_"), "the message names the variable: {message}");
}
