// A shared object that is not a tlsweep backend: it exports no tlsweep_backend_entry.
extern "C" __attribute__((visibility("default"))) int not_a_backend() { return 42; }
