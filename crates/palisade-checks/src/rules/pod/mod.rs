pub mod read_only_root_filesystem;
