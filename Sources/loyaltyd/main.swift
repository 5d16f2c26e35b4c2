print("loyaltyd")
