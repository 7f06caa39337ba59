process.stdout.write('pyros: command line not wired yet\n');
