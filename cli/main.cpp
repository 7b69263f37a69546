#include "cli/app.hpp"

int main(int argc, char** argv, char** envp) { return edgeship::cli::main(argc, argv, envp); }
