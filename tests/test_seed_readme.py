"""Every example of the seed README (docs of the original python-parallel), run as written.

Only two things differ from the README text:
  * network / database work is replaced by fake work (a URL ``https://x`` gives ``"x results"``,
    an unexpected ``expected_code`` raises ``ValueError``; prices are numbers derived from the
    exchange), and the README's ``pass`` bodies get that fake work;
  * the README's two syntax slips are fixed: the missing comma after the first entry of two
    ``par`` dicts, and the quotes inside the ``TypeError`` message.
"""

import os

import pytest

import parallel


# --- fake work standing in for requests.get + store_in_db and the price APIs -----------------

def fake_store(url):
    """'https://python.org' -> 'python.org results'."""
    return f"{url.removeprefix('https://')} results"


EXCHANGE_FACTOR = {"bitstamp": 1, "bitfinex": 2}


def fake_price(base, exchange):
    return base * EXCHANGE_FACTOR[exchange]


def render_template(template, context):
    """Stands in for a web framework: gives back the context it would render."""
    return context


# --- parallel.map ------------------------------------------------------------------------------

def download_and_store(url, expected_code=200):
    # README: resp = requests.get(url); compare status; store_in_db(resp.json())
    if expected_code not in (200, 201, 204):
        raise ValueError()
    result = fake_store(url)
    return result


def test_map_over_a_list_of_urls():
    urls = ['https://python.org', 'https://rmotr.com', '...']

    results = parallel.map(download_and_store, urls)
    python_result = results[0]

    assert python_result == 'python.org results'
    assert results == ['python.org results', 'rmotr.com results', '... results']


def test_map_multiple_params_as_sequences():
    urls = [
        ('https://python.org', 204),
        ('https://rmotr.com', 201),
    ]

    results = parallel.map(download_and_store, urls)

    assert results == ['python.org results', 'rmotr.com results']


def test_map_multiple_params_in_dictionaries():
    urls = {
        'python': ('https://python.org', 204),
        'rmotr': ('https://rmotr.com', 201),
    }

    results = parallel.map(download_and_store, urls)
    python_result = results['python']

    assert python_result == 'python.org results'
    assert results == {'python': 'python.org results', 'rmotr': 'rmotr.com results'}


def test_map_propagates_the_exception_by_default():
    # "By default, if a function raises an exception, parallel will propagate it"
    urls = [
        ('https://python.org', 204),
        ('https://rmotr.com', 500),  # fake download raises ValueError
    ]
    with pytest.raises(ValueError):
        parallel.map(download_and_store, urls)


# --- parallel.par ------------------------------------------------------------------------------

def test_par_prices_index():
    def get_price_bitcoin(exchange):
        return fake_price(30000, exchange)

    def get_price_ether(exchange):
        return fake_price(2000, exchange)

    def get_price_ripple(exchange):
        return fake_price(3, exchange)

    def index(request):
        prices = parallel.par({
            'btc': (get_price_bitcoin, 'bitstamp'),
            'eth': parallel.future(get_price_ether, exchange='bitfinex'),
            'xrp': parallel.future(get_price_ripple, 'bitstamp'),
        })

        return render_template('index.html', context={
            'prices': prices
        })

    context = index(request=None)
    assert context['prices'] == {'btc': 30000, 'eth': 4000, 'xrp': 3}
    assert list(context['prices']) == ['btc', 'eth', 'xrp']


# --- Choosing an executor ----------------------------------------------------------------------

URLS = ['https://python.org', 'https://rmotr.com', '...']
EXPECTED = ['python.org results', 'rmotr.com results', '... results']


def test_choosing_thread_executor():
    urls = URLS
    # Multithreading:
    results = parallel.thread.map(download_and_store, urls)   # Attribute
    assert results == EXPECTED
    results = parallel.map(download_and_store, urls,
                           executor=parallel.THREAD_EXECUTOR) # Parameter
    assert results == EXPECTED


def test_choosing_process_executor():
    urls = URLS
    # Multiprocessing:
    results = parallel.process.map(download_and_store, urls)   # Attribute
    assert results == EXPECTED
    results = parallel.map(download_and_store, urls,
                           executor=parallel.PROCESS_EXECUTOR) # Parameter
    assert results == EXPECTED


def test_executor_parameters_passed_directly():
    urls = URLS
    results = parallel.map(
        download_and_store, urls,
        executor=parallel.THREAD_EXECUTOR,
        timeout=10,
        max_workers=5)
    assert results == EXPECTED


def test_executor_parameters_passed_directly_process():
    urls = URLS
    results = parallel.map(
        download_and_store, urls,
        executor=parallel.PROCESS_EXECUTOR,
        timeout=10,
        max_workers=5)
    assert results == EXPECTED


# --- Decorating functions ----------------------------------------------------------------------

@parallel.decorate
def decorated_download_and_store(url):
    return fake_store(url)


@parallel.decorate
def decorated_get_price_bitcoin(exchange):
    return fake_price(30000, exchange)


@parallel.decorate
def decorated_get_price_ether(exchange):
    return fake_price(2000, exchange)


def test_decorated_function_map():
    @parallel.decorate
    def download_and_store(url):
        return fake_store(url)

    urls = ['https://python.org', 'https://rmotr.com', '...']

    results = download_and_store.map(urls)  # Use the function as a handler

    assert results == EXPECTED


def test_decorated_function_thread_and_process_map():
    download_and_store = decorated_download_and_store
    urls = URLS

    results = download_and_store.thread.map(urls, timeout=10, max_workers=5)
    assert results == EXPECTED

    results = download_and_store.process.map(urls, timeout=10, max_workers=5)
    assert results == EXPECTED


def test_decorated_functions_in_par():
    @parallel.decorate
    def get_price_bitcoin(exchange):
        return fake_price(30000, exchange)

    @parallel.decorate
    def get_price_ether(exchange):
        return fake_price(2000, exchange)

    prices = parallel.par({
        'btc': get_price_bitcoin.future('bitstamp'),
        'eth': get_price_ether.future(exchange='bitfinex'),
    })

    assert prices == {'btc': 30000, 'eth': 4000}


def test_decorated_functions_still_callable():
    download_and_store = decorated_download_and_store
    get_price_bitcoin = decorated_get_price_bitcoin

    result = download_and_store('https://python.org')
    btc = get_price_bitcoin('bitstamp')

    assert result == 'python.org results'
    assert btc == 30000


# --- Parameters: sequences or dictionaries -----------------------------------------------------

def test_sequences_or_dictionaries():
    def download_and_store(url):
        return fake_store(url)

    # Sequential:
    results = parallel.map(download_and_store, [
        'https://python.org',
        'https://rmotr.com'
    ])
    assert results == ['python.org results', 'rmotr.com results']

    # Named (with a dictionary):
    results = parallel.map(download_and_store, {
        'python': 'https://python.org',
        'rmotr': 'https://rmotr.com'
    })
    assert results == {
        'python': 'python.org results',
        'rmotr': 'rmotr.com results'
    }


# --- Named and optional parameters -------------------------------------------------------------

def named_download_and_store(url, content_type, db_table='websites', log_level='info', options=None):
    # ... some code ... (fake: report how it was called)
    return (url, content_type, db_table, log_level, options)


def test_passing_multiple_arguments():
    download_and_store = named_download_and_store
    results = parallel.map(download_and_store, [
        ('https://python.org', 'json'),  # download_and_store('https://python.org', 'json')
        ('https://rmotr.com', 'xml')     # download_and_store('https://rmotr.com', 'xml')
    ])
    assert results == [
        ('https://python.org', 'json', 'websites', 'info', None),
        ('https://rmotr.com', 'xml', 'websites', 'info', None),
    ]


def test_passing_named_parameters():
    download_and_store = named_download_and_store
    results = parallel.map(download_and_store, [
        # download_and_store('https://python.org', 'json', db_table='webpages')
        ('https://python.org', 'json', {'db_table': 'webpages'}),

        # download_and_store('https://rmotr.com', 'xml', db_table='debug')
        ('https://rmotr.com', 'xml', {'log_level': 'debug'})
    ])
    assert results == [
        ('https://python.org', 'json', 'webpages', 'info', None),
        ('https://rmotr.com', 'xml', 'websites', 'debug', None),
    ]


def test_extras_avoid_repeating_yourself():
    download_and_store = named_download_and_store
    results = parallel.map(download_and_store, [
        ('https://python.org', 'json'),
        ('https://rmotr.com', 'xml')
    ], extras={
        'db_table': 'temporary_webpages'
    })
    # "all the URLs will be stored in temporary_webpages"
    assert results == [
        ('https://python.org', 'json', 'temporary_webpages', 'info', None),
        ('https://rmotr.com', 'xml', 'temporary_webpages', 'info', None),
    ]


# --- Advanced use cases ------------------------------------------------------------------------

def test_parallel_arg_advanced_use_case():
    # The README's call passes no content_type, so this function "receives a dictionary as
    # parameter" (options) and nothing else is required.
    def download_and_store(url, options=None):
        return (fake_store(url), options)

    results = parallel.map(download_and_store, {
        'python': parallel.arg('https://python.org', options={'Content-Type': 'application/json'}),
        'rmotr': 'https://rmotr.com'
    })

    assert results == {
        'python': ('python.org results', {'Content-Type': 'application/json'}),
        'rmotr': ('rmotr.com results', None),
    }


def test_parallel_future_advanced_use_case():
    def get_price_bitcoin(exchange):
        return fake_price(30000, exchange)

    def get_price_ether(exchange, options=None):
        return (fake_price(2000, exchange), options)

    prices = parallel.par({
        'btc': parallel.future(get_price_bitcoin, exchange='bitstamp'),
        'eth': parallel.future(get_price_ether, 'bitfinex',
                               options={'Content-Type': 'application/json'}),
    })

    assert prices == {
        'btc': 30000,
        'eth': (4000, {'Content-Type': 'application/json'}),
    }


# --- Error Handling ----------------------------------------------------------------------------

def add(x, y):
    # The README's message, "unsupported operand type(s) for +: 'int' and 'str'", is what
    # Python 3 says for `5 + 'a'` (int on the left); `'a' + 5` says "can only concatenate str
    # (not "int") to str". So that the README's assertion holds as written, this fake adds
    # mixed types int-first.
    if type(x) is not type(y):
        return y + x
    return x + y


def plain_add(x, y):
    return x + y


def python_error(fn, *args):
    try:
        fn(*args)
    except Exception as e:
        return e
    raise AssertionError("no error")


def test_error_handling_silent(capsys):
    results = parallel.map(add, [
        (2, 3),
        ('a', 5),  # will fail
        ('hello ', 'world')
    ], silent=True)

    print(results.failures)
    # True (there are failed tasks)
    assert capsys.readouterr().out == "True\n"

    r1, r2, r3 = results
    assert r1 == 5
    assert r3 == 'hello world'

    assert r2 == parallel.FailedTask(
        params=('a', 5),
        ex=TypeError("unsupported operand type(s) for +: 'int' and 'str'")
    )

    # Read below for more info on `replace_failed`
    assert results.replace_failed(None) == [5, None, 'hello world']


def test_error_handling_silent_with_each_executor(executor):
    results = parallel.map(add, [
        (2, 3),
        ('a', 5),  # will fail
        ('hello ', 'world')
    ], silent=True, executor=executor)

    assert results.failures is True
    r1, r2, r3 = results
    assert r1 == 5
    assert r3 == 'hello world'
    assert r2 == parallel.FailedTask(
        params=('a', 5),
        ex=TypeError("unsupported operand type(s) for +: 'int' and 'str'")
    )
    assert results.replace_failed(None) == [5, None, 'hello world']


def test_failed_task_details_and_result_helpers():
    results = parallel.map(plain_add, [
        (2, 3),
        ('a', 5),  # will fail
        ('hello ', 'world')
    ], silent=True)

    # "What map, par and other methods return is an instance of the parallel.BaseResult class"
    assert isinstance(results, parallel.BaseResult)

    failed_task = results[1]
    assert isinstance(failed_task, parallel.FailedTask)
    assert failed_task.params == ('a', 5)
    assert failed_task.kwargs == {}
    assert isinstance(failed_task.ex, TypeError)
    expected = python_error(plain_add, 'a', 5)  # TypeError('can only concatenate str ...')
    assert failed_task == parallel.FailedTask(params=('a', 5), ex=TypeError(*expected.args))
    assert failed_task.ex.args == expected.args

    assert results.failures is True
    assert results.failed == [failed_task]
    assert results.succeeded == [5, 'hello world']
    assert results.replace_failed(None) == [5, None, 'hello world']


def test_no_failures_when_every_task_succeeds():
    results = parallel.map(add, [(2, 3), ('hello ', 'world')], silent=True)
    assert results.failures is False
    assert results.failed == []
    assert results.succeeded == [5, 'hello world']
    assert results.replace_failed(None) == [5, 'hello world']


def test_par_and_map_results_are_base_results():
    assert isinstance(parallel.map(add, [(1, 2)]), parallel.BaseResult)
    assert isinstance(parallel.map(add, {'a': (1, 2)}), parallel.BaseResult)
    assert isinstance(parallel.par([(add, 1, 2)]), parallel.BaseResult)
    assert isinstance(parallel.par({'a': (add, 1, 2)}), parallel.BaseResult)


def test_process_workers_are_other_processes():
    # sanity check that "Multiprocessing" really runs elsewhere, and threads run here
    here = os.getpid()
    assert parallel.thread.map(os.getpid, [()]) == [here]
    assert parallel.process.map(os.getpid, [()])[0] != here
