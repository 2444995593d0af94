// The weft executable: the CLI (main() in weft_cli_main) linked with the sample kernels' registrars.
// A project-local CLI links its own kernels instead (weft_add_kernels).
