print("acmeeh")
