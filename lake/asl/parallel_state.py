def run_parallel(run, name, state, data):
    raise NotImplementedError
