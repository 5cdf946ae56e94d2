def run_map(run, name, state, data):
    raise NotImplementedError
